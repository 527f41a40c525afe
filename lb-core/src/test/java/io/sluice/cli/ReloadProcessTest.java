package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real process: SIGHUP and {@code sluice reload} reload the file, and a SIGHUP never stops the process. */
class ReloadProcessTest {
    @TempDir
    Path dir;

    private static String config(String server, boolean valid) {
        return """
                runtime: { drain_timeout: 5s }
                admin: { bind: "127.0.0.1:0" }
                listeners: [ { name: a, bind: "127.0.0.1:%s", cluster: app } ]
                clusters: [ { name: app, algorithm: %s, servers: [ { address: "%s" } ] } ]
                """.formatted("%d", valid ? "round_robin" : "least_conn", server);
    }

    @Test
    void sighupAndTheReloadCommandApplyTheFileAndABadFileChangesNothing() throws Exception {
        try (TestBackend one = TestBackend.start("one", TestBackend.echo());
             TestBackend two = TestBackend.start("two", TestBackend.sayName())) {
            Path cfg = dir.resolve("sluice.yaml");
            Files.writeString(cfg, config(one.address(), true).formatted(0));
            Path log = dir.resolve("sluice.log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "io.sluice.cli.Main", "run", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                int port = find(log, "listener a on 127\\.0\\.0\\.1:(\\d+)");
                int admin = find(log, "admin on http://127\\.0\\.0\\.1:(\\d+)");
                assertThat(Files.readString(log)).as("a production process runs without the leak detector's sampling")
                        .contains("Netty leak detection: off");
                if (hangupIgnoredHere()) {
                    // Started under nohup: the child inherits SIGHUP ignored, and the JVM keeps it so.
                    assertThat(Files.readString(log)).contains("SIGHUP is ignored in this process");
                    Assumptions.abort("SIGHUP is ignored in this JVM (run under nohup?), so in its child too; "
                            + "the child warned about it as it should");
                }
                try (Socket before = Proxies.connect(port)) {
                    Proxies.roundTrip(before, "ping");
                    // The same listener (same address: the port it got is now written down), another server.
                    Files.writeString(cfg, config(two.address(), true).formatted(port));
                    new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
                    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                            assertThat(Files.readString(log)).contains("config reloaded"));
                    assertThat(Proxies.exchange(port).trim()).isEqualTo("two");
                    assertThat(p.isAlive()).as("SIGHUP must not stop the process").isTrue();
                    // The connection opened before the reload is still the one it was.
                    Proxies.roundTrip(before, "pong");
                }

                Files.writeString(cfg, config(one.address(), false).formatted(port));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int code = Main.execute(new String[] {"reload", "--admin", "http://127.0.0.1:" + admin},
                        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
                String answer = out.toString(StandardCharsets.UTF_8);
                assertThat(code).as(answer + err).isEqualTo(1);
                assertThat(answer).contains("\"result\":\"rejected\"").contains("\"path\":\"clusters[0].algorithm\"")
                        .contains("\"line\":4").contains("did you mean");
                assertThat(Proxies.exchange(port).trim()).as("a rejected reload changes nothing").isEqualTo("two");

                Files.writeString(cfg, config(one.address(), true).formatted(port));
                out.reset();
                code = Main.execute(new String[] {"reload", "--admin", "http://127.0.0.1:" + admin},
                        new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
                assertThat(code).as(out.toString(StandardCharsets.UTF_8)).isZero();
                assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"result\":\"applied\"")
                        .contains("server " + one.address() + " added").contains("server " + two.address() + " removed");
                try (Socket after = Proxies.connect(port)) {
                    Proxies.roundTrip(after, "echo");
                }
                p.destroy();
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** Whether this JVM was started with SIGHUP ignored (bit 0 of SigIgn in /proc/self/status). */
    private static boolean hangupIgnoredHere() throws Exception {
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return false;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & 1L) != 0;
            }
        }
        return false;
    }

    private static int find(Path log, String regex) {
        Pattern pattern = Pattern.compile(regex);
        int[] port = new int[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Matcher m = pattern.matcher(Files.readString(log));
            if (m.find()) {
                port[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return false;
        });
        return port[0];
    }
}
