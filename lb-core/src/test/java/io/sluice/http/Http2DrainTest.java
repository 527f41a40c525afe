package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drain (shutdown, or a reload that removes the listener) sends an HTTP/2 client GOAWAY: the stream in flight
 * finishes with its response, and a stream opened after the GOAWAY's last-stream-id is never served.
 */
class Http2DrainTest {
    private static final String LISTENER = """
              - { name: %s, bind: "127.0.0.1:0", protocol: http, cluster: app }
            """;

    @TempDir
    Path dir;

    private final CountDownLatch release = new CountDownLatch(1);

    private HttpBackend slowBackend() throws Exception {
        return new HttpBackend("a", HttpBackend.holding("/slow", release));
    }

    private static String config(String listenerName, String backend) {
        return """
                admin: { enabled: false }
                listeners:
                %s
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                """.formatted(LISTENER.formatted(listenerName), backend);
    }

    @Test
    void shutdownLetsTheStreamInFlightFinishAndServesNoNewOne() throws Exception {
        try (HttpBackend backend = slowBackend()) {
            Sluice s = Sluice.start(ConfigLoader.parse(config("web", backend.address())));
            drainWhileAStreamIsInFlight(s, backend, () -> CompletableFuture.runAsync(
                    () -> s.shutdown(Duration.ofSeconds(30))));
        }
    }

    @Test
    void reloadRemovingTheListenerLetsTheStreamInFlightFinishAndServesNoNewOne() throws Exception {
        try (HttpBackend backend = slowBackend()) {
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, config("web", backend.address()));
            Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "test");
            try {
                drainWhileAStreamIsInFlight(s, backend, () -> {
                    Files.writeString(file, config("other", backend.address()));
                    return s.reloadAsync().thenAccept(r -> assertThat(r).isInstanceOf(ReloadResult.class));
                });
            } finally {
                s.shutdown(Duration.ofSeconds(5));
            }
        }
    }

    interface Drain {
        CompletableFuture<?> start() throws Exception;
    }

    private void drainWhileAStreamIsInFlight(Sluice s, HttpBackend backend, Drain drain) throws Exception {
        try (RawH2 c = new RawH2(io.sluice.testing.Proxies.port(s, "web"))) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/slow", ":authority", "a");
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests.size() == 1);

            CompletableFuture<?> draining = drain.start();
            RawH2.Frame goaway = c.await(RawH2.GOAWAY, 0);
            assertThat(goaway).isNotNull();
            assertThat(goaway.errorCode()).isZero();
            int lastStreamId = java.nio.ByteBuffer.wrap(goaway.payload()).getInt() & 0x7fffffff;
            assertThat(lastStreamId).isEqualTo(1);

            // A new stream after the GOAWAY is beyond its last-stream-id: not served.
            c.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/late", ":authority", "a");
            release.countDown();

            List<RawH2.Frame> after = new ArrayList<>();
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                after.add(f);
            }
            RawH2.Frame head = after.stream().filter(f -> f.type() == RawH2.HEADERS && f.stream() == 1)
                    .findFirst().orElseThrow();
            assertThat(head.payload()[0] & 0xff).as(":status 200 (HPACK static index 8)").isEqualTo(0x88);
            String body = new String(after.stream().filter(f -> f.type() == RawH2.DATA && f.stream() == 1)
                    .map(RawH2.Frame::payload).reduce(new byte[0], Http2DrainTest::concat), StandardCharsets.UTF_8);
            assertThat(body).isEqualTo("/slow");
            assertThat(after).as("stream 1 ended").anyMatch(f -> f.stream() == 1
                    && (f.flags() & RawH2.END_STREAM) != 0 && (f.type() == RawH2.DATA || f.type() == RawH2.HEADERS));
            assertThat(after).as("nothing answered on stream 3")
                    .noneMatch(f -> f.stream() == 3 && (f.type() == RawH2.HEADERS || f.type() == RawH2.DATA));
            draining.get(30, TimeUnit.SECONDS);
        }
        assertThat(backend.requests).extracting(HttpBackend.Request::uri).containsExactly("/slow");
    }

    /**
     * Many responses in flight when the shutdown starts, all answered at once: every one reaches the client whole
     * before the connection closes. Netty closes the connection when its last stream closes, on that stream's last
     * frame's promise: a frame promise completed before its bytes are written (an idea measured and not taken, see
     * docs/bench/measurements-2026-12-06-h2prom.md) would let the close overtake bytes still held or queued.
     */
    @Test
    void shutdownWithManyResponsesInFlightLosesNoResponseByte() throws Exception {
        int streams = 40;
        try (HttpBackend backend = slowBackend()) {
            Sluice s = Sluice.start(ConfigLoader.parse(config("web", backend.address())));
            try (RawH2 c = new RawH2(io.sluice.testing.Proxies.port(s, "web"))) {
                for (int i = 0; i < streams; i++) {
                    c.headers(1 + 2 * i, true, ":method", "GET", ":scheme", "http", ":path", "/slow",
                            ":authority", "a");
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests.size() == streams);
                CompletableFuture<?> draining = CompletableFuture.runAsync(() -> s.shutdown(Duration.ofSeconds(30)));
                assertThat(c.await(RawH2.GOAWAY, 0)).isNotNull();
                release.countDown();

                List<RawH2.Frame> after = new ArrayList<>();
                for (RawH2.Frame f; (f = c.read()) != null; ) {
                    after.add(f);
                }
                for (int i = 0; i < streams; i++) {
                    int id = 1 + 2 * i;
                    assertThat(after).as("stream %d's head", id)
                            .anyMatch(f -> f.type() == RawH2.HEADERS && f.stream() == id);
                    String body = new String(after.stream().filter(f -> f.type() == RawH2.DATA && f.stream() == id)
                            .map(RawH2.Frame::payload).reduce(new byte[0], Http2DrainTest::concat),
                            StandardCharsets.UTF_8);
                    assertThat(body).as("stream %d's body", id).isEqualTo("/slow");
                    assertThat(after).as("stream %d ended", id).anyMatch(f -> f.stream() == id
                            && (f.flags() & RawH2.END_STREAM) != 0);
                }
                draining.get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
