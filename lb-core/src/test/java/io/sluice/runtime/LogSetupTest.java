package io.sluice.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.LogLevel;
import io.sluice.config.RuntimeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** runtime.log_format and runtime.log_level: what Sluice's own log looks like, at start and after a reload. */
class LogSetupTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String YAML = """
            runtime: { worker_threads: 1%s }
            admin: { enabled: false }
            listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
            clusters: [ { name: app, servers: [ { address: "127.0.0.1:9" } ] } ]
            """;

    @TempDir
    Path dir;
    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream stderr;

    @BeforeEach
    void captureStderr() {
        stderr = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setErr(stderr);
        System.clearProperty(LogLevel.PROPERTY);
        System.clearProperty(LogSetup.LOGGER_LEVEL_PREFIX + "io.sluice.test");
        LogSetup.apply(RuntimeConfig.DEFAULT);
    }

    private Sluice start(String runtime) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, YAML.formatted(runtime));
        return Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
    }

    private ReloadResult reload(Sluice s, String runtime) throws Exception {
        Files.writeString(dir.resolve("sluice.yaml"), YAML.formatted(runtime));
        return s.reloadAsync().get(30, TimeUnit.SECONDS);
    }

    private List<String> lines() {
        List<String> lines = new ArrayList<>(captured.toString(StandardCharsets.UTF_8).lines().toList());
        captured.reset();
        return lines;
    }

    /** Every line parsed as JSON: nothing else may be written in that format. */
    private List<JsonNode> jsonLines() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : lines()) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static JsonNode find(List<JsonNode> lines, String messagePrefix) {
        return lines.stream().filter(l -> l.path("message").asText().startsWith(messagePrefix)).findFirst()
                .orElseThrow(() -> new AssertionError("no line starts with " + messagePrefix + " in " + lines));
    }

    @Test
    void jsonLinesCarryTimestampLevelLoggerAndTheFormattedMessage() throws Exception {
        long before = System.currentTimeMillis();
        try (Sluice s = start(", log_format: json")) {
            Logger test = LoggerFactory.getLogger("io.sluice.test");
            test.warn("quote \" backslash \\ newline\n tab\t unicode é {}", "filled in",
                    new IllegalStateException("boom"));
            List<JsonNode> lines = jsonLines();
            JsonNode ready = find(lines, "sluice ready: 1 listener(s), 1 cluster(s)");
            assertThat(ready.path("timestamp").asLong()).isBetween(before, System.currentTimeMillis());
            assertThat(ready.path("level").asText()).isEqualTo("INFO");
            assertThat(ready.path("loggerName").asText()).isEqualTo("io.sluice.Sluice");
            assertThat(ready.path("threadName").asText()).isNotEmpty();
            JsonNode warn = find(lines, "quote");
            assertThat(warn.path("message").asText())
                    .isEqualTo("quote \" backslash \\ newline\n tab\t unicode é filled in");
            assertThat(warn.path("level").asText()).isEqualTo("WARN");
            assertThat(warn.path("throwable").path("className").asText())
                    .isEqualTo(IllegalStateException.class.getName());
            assertThat(warn.path("throwable").path("message").asText()).isEqualTo("boom");
        }
    }

    @Test
    void aReloadSwitchesTheFormatAndTheLevel() throws Exception {
        try (Sluice s = start("")) {
            // Text by default, as slf4j-simple printed it.
            assertThat(lines()).anyMatch(l -> l.matches("\\[[^]]+] INFO io\\.sluice\\.Sluice - sluice ready: .*"));
            Logger test = LoggerFactory.getLogger("io.sluice.test");
            test.debug("not at info");
            assertThat(lines()).noneMatch(l -> l.contains("not at info"));

            ReloadResult r = reload(s, ", log_format: json, log_level: debug");
            assertThat(r.changes()).contains("runtime.log_format: text -> json", "runtime.log_level: info -> debug");
            test.debug("now at debug");
            assertThat(find(jsonLines(), "now at debug").path("level").asText()).isEqualTo("DEBUG");

            reload(s, ", log_level: error");
            test.warn("below error");
            test.error("an error");
            List<String> text = lines();
            assertThat(text).noneMatch(l -> l.contains("below error"));
            assertThat(text).contains("[" + Thread.currentThread().getName() + "] ERROR io.sluice.test - an error");
        }
    }

    @Test
    void theSlf4jSimpleLevelPropertiesStillWorkWhereTheConfigSetsNoLevel() throws Exception {
        System.setProperty(LogLevel.PROPERTY, "warn");
        System.setProperty(LogSetup.LOGGER_LEVEL_PREFIX + "io.sluice.test", "debug");
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        try (Sluice s = start("")) {
            assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.WARN);
            assertThat(context.getLogger("io.sluice.test").getLevel()).isEqualTo(Level.DEBUG);
        }
        try (Sluice s = start(", log_level: info")) {
            assertThat(context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).getLevel()).isEqualTo(Level.INFO);
        }
    }

    @Test
    void anUnknownFormatOrLevelIsAConfigErrorNamingTheKey() {
        assertThatThrownBy(() -> ConfigLoader.parse(YAML.formatted(", log_format: xml, log_level: loud")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("runtime.log_format")
                .hasMessageContaining("expected one of text, json")
                .hasMessageContaining("runtime.log_level");
    }
}
