package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void checkExitsOneAndPrintsEveryError() throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                listeners:
                  - { name: a, bind: "127.0.0.1:80800", cluster: app }
                clusters:
                  - name: app
                    algorithm: least_conn
                    servers: [ { address: "10.0.0.1" } ]
                """);
        Result r = run("check", bad.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("3 error(s)",
                "listeners[0].bind (line 2, col 22): expected host:port",
                "clusters[0].algorithm (line 5, col 16): unknown algorithm \"least_conn\"",
                "clusters[0].servers[0].address (line 6, col 27): expected host:port");
    }

    @Test
    void checkExitsZeroOnAValidFile() throws IOException {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, """
                listeners: [ { name: a, bind: "127.0.0.1:8080", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "10.0.0.1:80" } ] } ]
                """);
        Result r = run("check", good.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("ok (1 listener(s), 1 cluster(s))");
    }

    @Test
    void checkOnAFileThatIsNotUtf8NamesTheBadByte() throws IOException {
        Path latin1 = dir.resolve("latin1.yaml");
        // "# café" in ISO-8859-1: the é is the single byte 0xe9 at offset 5.
        Files.write(latin1, "# caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        Result r = run("check", latin1.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains(latin1 + ": 1 error(s)",
                "config (line 1, col 6): not UTF-8: invalid byte 0xe9 at offset 5");
        assertThat(r.err()).doesNotContain("Exception", "Input length");
    }

    @Test
    void checkOnAMissingFileSaysSo() {
        Result r = run("check", dir.resolve("missing.yaml").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no such file");
    }

    @Test
    void helpVersionAndUsageErrors() {
        assertThat(run("--help")).satisfies(r -> {
            assertThat(r.code()).isZero();
            assertThat(r.out()).contains("run CONFIG.yaml", "check CONFIG.yaml", "demo");
        });
        assertThat(run("--version")).satisfies(r -> {
            assertThat(r.code()).isZero();
            assertThat(r.out()).matches("sluice \\d+\\.\\d+\\.\\d+.*\\s*");
        });
        assertThat(run("frobnicate").code()).isEqualTo(2);
        assertThat(run().code()).isEqualTo(2);
        assertThat(run("check").code()).isEqualTo(2);
    }

    @Test
    void runExitsThreeWhenThePortIsTaken() throws IOException {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Path cfg = dir.resolve("taken.yaml");
            Files.writeString(cfg, """
                    admin: { enabled: false }
                    listeners: [ { name: a, bind: "127.0.0.1:%d", cluster: app } ]
                    clusters: [ { name: app, servers: [ { address: "127.0.0.1:9" } ] } ]
                    """.formatted(taken.getLocalPort()));
            Result r = run("run", cfg.toString());
            assertThat(r.code()).isEqualTo(3);
            assertThat(r.err()).contains("could not start");
        }
    }

    @Test
    void demoConfigIsValid() throws Exception {
        assertThat(io.sluice.config.ConfigLoader.parse(DemoCommand.demoConfig(8080, 8081, 9901, java.util.List.of(9001, 9002, 9003)))
                .listeners()).hasSize(2);
    }

    /** The real process: SIGTERM stops accepting, waits for the open connection, then exits 0. */
    @Test
    void sigtermDrainsOpenConnectionsThenExitsZero() throws Exception {
        try (TestBackend backend = TestBackend.start("b", TestBackend.echo())) {
            Path cfg = dir.resolve("run.yaml");
            Files.writeString(cfg, """
                    runtime: { drain_timeout: 20s }
                    admin: { enabled: false }
                    listeners: [ { name: a, bind: "127.0.0.1:0", cluster: app } ]
                    clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                    """.formatted(backend.address()));
            Path log = dir.resolve("sluice.log");
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "io.sluice.cli.Main", "run", cfg.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                int port = awaitListenerPort(log);
                try (Socket client = Proxies.connect(port)) {
                    client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                    assertThat(new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
                            .isEqualTo("ping");

                    p.destroy(); // SIGTERM
                    await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(log).contains("draining 1"));
                    assertThat(p.isAlive()).isTrue();
                    // The open connection still works while draining.
                    client.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                    assertThat(new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
                            .isEqualTo("pong");
                }
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(Files.readString(log)).isZero();
                // A stop retires the clusters on purpose: no warning that one is left without servers.
                assertThat(Files.readString(log)).contains("sluice stopped").doesNotContain("has no available server");
            } finally {
                p.destroyForcibly();
            }
        }
    }

    private static int awaitListenerPort(Path log) {
        Pattern bound = Pattern.compile("listener a on 127\\.0\\.0\\.1:(\\d+)");
        int[] port = new int[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Matcher m = bound.matcher(Files.readString(log));
            if (m.find()) {
                port[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return false;
        });
        return port[0];
    }
}
