package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.RecvRings;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * io_uring's provided-buffer ring with more connections than buffers, all on one loop (one ring), each with
 * bytes in flight while its server pauses: every upload still finishes once the servers read again. Sluice keeps
 * what it read (ring buffers) queued towards the paused servers, and its clients' receives are cancelled and
 * armed again around the pause.
 */
class RecvRingExhaustionTest {
    private static final int CONNECTIONS = 24;
    private static final String RING = "8x4096";
    private static final long BODY = 4L << 20;

    /** One connection's upload; it blocks while the servers pause. */
    private interface Upload {
        void run() throws Exception;
    }

    /** What each server does first: count itself in, then wait for {@code go}. */
    private static void pause(AtomicInteger arrived, CountDownLatch go) {
        arrived.incrementAndGet();
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs every upload at once, waits until every server holds its connection and no more bytes go out, lets the
     * servers read, and waits for every upload to finish.
     */
    private static void acrossAPause(List<Upload> uploads, AtomicLong sent, AtomicInteger arrived, CountDownLatch go)
            throws Exception {
        ExecutorService writers = Executors.newCachedThreadPool();
        try {
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (Upload u : uploads) {
                running.add(CompletableFuture.runAsync(() -> {
                    try {
                        u.run();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, writers));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> arrived.get() == uploads.size());
            HttpBackpressureTest.awaitStall(sent);
            go.countDown();
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        } finally {
            go.countDown();
            writers.shutdownNow();
        }
    }

    private static void send(OutputStream out, AtomicLong sent) throws java.io.IOException {
        byte[] chunk = Patterns.chunk(64 * 1024);
        for (long left = BODY; left > 0; left -= chunk.length) {
            out.write(chunk);
            sent.addAndGet(chunk.length);
        }
        out.flush();
    }

    @Test
    void httpUploadsOnMoreConnectionsThanRingBuffersAllFinishAfterAPause() throws Exception {
        Transports.assumeAvailable("io_uring");
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger arrived = new AtomicInteger();
        AtomicLong sent = new AtomicLong();
        List<RawHttp> clients = new ArrayList<>();
        try (HttpBackend b = new HttpBackend("sink", (req, out, s) -> {
            s.setReceiveBufferSize(64 * 1024);
            pause(arrived, go);
            long total = req.body().transferTo(OutputStream.nullOutputStream());
            HttpBackend.respond(out, 200, "text/plain", Long.toString(total).getBytes(StandardCharsets.UTF_8));
        });
             AutoCloseable ring = RecvRings.on(RING);
             Sluice s = Proxies.start("""
                     runtime: { transport: io_uring, worker_threads: 1 }
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                     clusters:
                       - name: app
                         servers: [ { address: "%s" } ]
                     """.formatted(b.address()))) {
            List<Upload> uploads = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                RawHttp c = new RawHttp(Proxies.port(s, "web"));
                clients.add(c);
                c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + BODY + "\r\n\r\n");
                uploads.add(() -> send(c.out, sent));
            }
            acrossAPause(uploads, sent, arrived, go);
            for (RawHttp c : clients) {
                assertThat(c.read().text()).isEqualTo(Long.toString(BODY));
            }
        } finally {
            for (RawHttp c : clients) {
                c.close();
            }
        }
    }

    @Test
    void relayedUploadsOnMoreConnectionsThanRingBuffersAllFinishAfterAPause() throws Exception {
        Transports.assumeAvailable("io_uring");
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger arrived = new AtomicInteger();
        AtomicLong sent = new AtomicLong();
        List<Socket> clients = new ArrayList<>();
        try (TestBackend b = TestBackend.start("sink", (sock, backend) -> {
            sock.setReceiveBufferSize(64 * 1024);
            pause(arrived, go);
            long total = sock.getInputStream().transferTo(OutputStream.nullOutputStream());
            sock.getOutputStream().write(Long.toString(total).getBytes(StandardCharsets.US_ASCII));
            sock.shutdownOutput();
        });
             AutoCloseable ring = RecvRings.on(RING);
             Sluice s = Proxies.startTcp("transport: io_uring, worker_threads: 1", b.address())) {
            List<Upload> uploads = new ArrayList<>();
            for (int i = 0; i < CONNECTIONS; i++) {
                Socket c = Proxies.connect(Proxies.port(s, "front"));
                clients.add(c);
                uploads.add(() -> {
                    send(c.getOutputStream(), sent);
                    c.shutdownOutput();
                });
            }
            acrossAPause(uploads, sent, arrived, go);
            for (Socket c : clients) {
                InputStream in = c.getInputStream();
                assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo(Long.toString(BODY));
            }
        } finally {
            for (Socket c : clients) {
                c.close();
            }
        }
    }
}
