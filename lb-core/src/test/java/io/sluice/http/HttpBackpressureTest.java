package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.RecvRings;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A side that stops reading stops the other side's writes (through the proxy), instead of filling memory. On
 * io_uring (what auto picks) first: these tests predate that default and had only ever run on epoll and nio.
 * Also on io_uring reading from a provided-buffer ring with multishot receives: a paused upload stalled there
 * for good until {@code UnendedReadBatches} (a read batch Netty ended without channelReadComplete).
 */
class HttpBackpressureTest {
    private static final long STREAM = 256L << 20;
    /** Kernel socket buffers on both legs (loopback autotuning reaches several MiB) plus the 256 KiB water marks. */
    private static final long IN_FLIGHT_LIMIT = 48L << 20;

    private static Sluice proxy(String mode, HttpBackend b) throws Exception {
        String transport = Transports.transportOf(mode);
        return Proxies.start("""
                runtime: { transport: %s }
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(transport, b.address()));
    }

    /** Waits until {@code counter} has moved and then stood still for a poll interval. */
    static void awaitStall(AtomicLong counter) {
        AtomicLong last = new AtomicLong(-1);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
            long now = counter.get();
            return now > 0 && now == last.getAndSet(now);
        });
    }

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", RecvRings.MODE, "epoll", "nio"})
    void clientThatStopsReadingStopsTheServer(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        AtomicLong written = new AtomicLong();
        try (HttpBackend b = new HttpBackend("source", (req, out, s) -> {
            out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + STREAM + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = Patterns.chunk(64 * 1024);
            for (long left = STREAM; left > 0; left -= chunk.length) {
                out.write(chunk);
                written.addAndGet(chunk.length);
            }
            out.flush();
        });
             AutoCloseable ring = RecvRings.forMode(transport);
             Sluice s = proxy(transport, b);
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            c.socket.setReceiveBufferSize(64 * 1024);
            c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
            awaitStall(written);
            assertThat(written.get()).isLessThan(IN_FLIGHT_LIMIT);

            InputStream in = c.in();
            byte[] buf = new byte[256 * 1024];
            long total = 0;
            int n;
            while (total < STREAM + 40 && (n = in.read(buf)) > 0) {
                total += n;
            }
            // Head plus body: everything arrives once the client reads again.
            assertThat(total).isGreaterThan(STREAM);
        }
    }

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", RecvRings.MODE, "epoll", "nio"})
    void serverThatStopsReadingStopsTheClient(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        CountDownLatch go = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("sink", (req, out, s) -> {
            s.setReceiveBufferSize(64 * 1024);
            try {
                go.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long total = req.body().transferTo(OutputStream.nullOutputStream());
            HttpBackend.respond(out, 200, "text/plain", Long.toString(total).getBytes(StandardCharsets.UTF_8));
        });
             AutoCloseable ring = RecvRings.forMode(transport);
             Sluice s = proxy(transport, b);
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            AtomicLong sent = new AtomicLong();
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + STREAM + "\r\n\r\n");
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    byte[] chunk = Patterns.chunk(64 * 1024);
                    for (long left = STREAM; left > 0; left -= chunk.length) {
                        c.out.write(chunk);
                        sent.addAndGet(chunk.length);
                    }
                    c.out.flush();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            awaitStall(sent);
            assertThat(sent.get()).isLessThan(IN_FLIGHT_LIMIT);
            go.countDown();
            writer.get(2, TimeUnit.MINUTES); // a stall fails here rather than hanging the test JVM
            assertThat(c.read().text()).isEqualTo(Long.toString(STREAM));
        }
    }
}
