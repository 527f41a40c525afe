package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.sluice.Sluice;
import io.sluice.net.DirectMemoryPressure;
import io.sluice.net.LoopGuard;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Issue 19's slow-client flood: slowloris connections (one header byte per second) and clients that never read
 * their response, while a normal client keeps asking. Every normal request succeeds; each slowloris is closed by
 * {@code header_timeout} and each non-reader by {@code send_timeout}, as the error counters show; direct memory
 * and RSS are printed before, during and after, and direct memory comes back near its start.
 *
 * <p>The counts (5,000 slowloris, 1,000 non-readers) need about 14,000 file descriptors in this one JVM
 * (both ends of each connection, and the backend's): run them with
 * {@code -Dsluice.flood.slowloris=5000 -Dsluice.flood.nonReaders=1000}. CI runs 1,000 and 100 by default: about
 * 2,500 descriptors, under the common 4,096 limit, and each non-reader holds about 1.5 MiB of kernel socket
 * buffers on loopback (the full count: 1.5 GiB, near the kernel's default TCP memory pressure point).
 */
class SlowClientFloodTest {
    @AutoClose
    final Resources resources = new Resources();

    private static final int SLOWLORIS = Integer.getInteger("sluice.flood.slowloris", 1000);
    private static final int NON_READERS = Integer.getInteger("sluice.flood.nonReaders", 100);
    private static final long MAX_DIRECT = PlatformDependent.maxDirectMemory();
    /** Beyond what the kernel buffers on the way (about 1.3 MiB on loopback), so that Sluice's own buffer stalls. */
    private static final long BIG = 4L << 20;
    private static final byte[] HEAD = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            .getBytes(StandardCharsets.US_ASCII);

    @Test
    void slowClientsAreClosedWhileANormalClientIsServed() throws Exception {
        HttpBackend backend = resources.keep(new HttpBackend("app", (req, out, s) -> {
            if (req.uri().equals("/big")) {
                HttpBackend.large(BIG).handle(req, out, s);
            } else {
                HttpBackend.sayName("app").handle(req, out, s);
            }
        }, null, 4096));
        // The normal client's own server: the test's thread-per-connection backend takes seconds to accept a
        // thousand connects on a loaded machine, and what is measured is whether Sluice serves the normal client.
        HttpBackend normalServer = resources.keep(new HttpBackend("normal", HttpBackend.sayName("normal")));
        Sluice sluice = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    backlog: 8192
                    http: { header_timeout: 3s, send_timeout: 2s }
                    routes:
                      - { name: normal, match: { path_prefix: "/normal" }, cluster: normal }
                clusters:
                  - name: app
                    pool: { max_connections_per_loop: 2000 }
                    connect_timeout: 30s
                    servers: [ { address: "%s" } ]
                  - name: normal
                    servers: [ { address: "%s" } ]
                """.formatted(backend.address(), normalServer.address())));
        int port = Proxies.port(sluice, "web");
        System.out.printf("flood: %d slowloris, %d non-readers, fd limit %s%n", SLOWLORIS, NON_READERS, fdLimit());

        AtomicLong normalOk = new AtomicLong();
        AtomicLong longestNormalWait = new AtomicLong();
        AtomicReference<Throwable> normalFailure = new AtomicReference<>();
        Thread normal = new Thread(() -> {
            // No deadline per request beyond the test's own: two event loops on a shared two-core machine can be
            // starved for many seconds; what must hold is that every request is answered, and the longest wait is
            // printed.
            try (RawHttp c = new RawHttp(port).readTimeout(Duration.ofSeconds(90))) {
                while (!Thread.currentThread().isInterrupted()) {
                    long asked = System.nanoTime();
                    RawHttp.Response r = c.get("/normal");
                    longestNormalWait.accumulateAndGet(System.nanoTime() - asked, Math::max);
                    if (r.status() != 200 || !r.text().startsWith("normal")) {
                        throw new AssertionError("normal request got " + r.status() + ": " + r.text());
                    }
                    normalOk.incrementAndGet();
                }
            } catch (Throwable t) {
                if (!Thread.currentThread().isInterrupted()) {
                    normalFailure.set(t);
                }
            }
        }, "normal-client");
        try (RawHttp warm = new RawHttp(port)) {
            assertThat(warm.get("/warm").status()).isEqualTo(200);
        }
        long loopErrorsBefore = LoopGuard.errors();
        Memory before = Memory.now("before");
        long started = System.nanoTime();
        normal.start();

        List<SocketChannel> slow = new ArrayList<>();
        resources.keep(() -> {
            for (SocketChannel c : slow) {
                c.close();
            }
        });
        for (int i = 0; i < SLOWLORIS; i++) {
            SocketChannel c = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            c.configureBlocking(false);
            c.write(ByteBuffer.wrap(HEAD, 0, 1));
            slow.add(c);
        }
        List<Socket> nonReaders = new ArrayList<>();
        resources.keep(() -> {
            for (Socket s : nonReaders) {
                s.close();
            }
        });
        for (int i = 0; i < NON_READERS; i++) {
            Socket s = new Socket();
            s.setReceiveBufferSize(4096);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            nonReaders.add(s);
        }

        // One more header byte per second to every slowloris still open: the client's pace, not a wait.
        AtomicInteger dripped = new AtomicInteger(1);
        AtomicInteger slowClosed = new AtomicInteger();
        ScheduledExecutorService drip = Executors.newSingleThreadScheduledExecutor();
        resources.keep(drip::shutdownNow);
        boolean[] closed = new boolean[slow.size()];
        AtomicReference<Memory> during = new AtomicReference<>(Memory.now("during"));
        drip.scheduleAtFixedRate(() -> {
            int at = dripped.getAndIncrement() % HEAD.length;
            for (int i = 0; i < slow.size(); i++) {
                if (closed[i]) {
                    continue;
                }
                try {
                    slow.get(i).write(ByteBuffer.wrap(HEAD, at, 1));
                    if (slow.get(i).read(ByteBuffer.allocate(512)) < 0) {
                        closed[i] = true;
                        slowClosed.incrementAndGet();
                    }
                } catch (IOException e) {
                    closed[i] = true;
                    slowClosed.incrementAndGet();
                }
            }
            HttpListenerStats st = ((HttpListener) sluice.listener("web")).httpStats();
            System.out.printf("flood: t=%.1f s slowloris closed %d, header_timeout %d, send_timeout %d, normal %d%n",
                    (System.nanoTime() - started) / 1e9, slowClosed.get(), st.errors(ErrorReason.HEADER_TIMEOUT),
                    st.errors(ErrorReason.SEND_TIMEOUT), normalOk.get());
            Memory m = Memory.now("during");
            during.accumulateAndGet(m, (a, b) -> a.direct >= b.direct ? a : b);
        }, 1, 1, TimeUnit.SECONDS);

        long flooded = System.nanoTime();
        System.out.printf("flood: all connections open after %.1f s%n", (flooded - started) / 1e9);
        try {
            // The listener's own counters (what /metrics reads), polled in-process: an HTTP client per poll would
            // add a selector thread and its buffers to this JVM every second of the flood.
            HttpListenerStats counts = ((HttpListener) sluice.listener("web")).httpStats();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    counts.errors(ErrorReason.HEADER_TIMEOUT) >= SLOWLORIS
                            && counts.errors(ErrorReason.SEND_TIMEOUT) + counts.errors(ErrorReason.BROKEN_RESPONSE)
                            >= NON_READERS);
        } finally {
            HttpListenerStats st = ((HttpListener) sluice.listener("web")).httpStats();
            StringBuilder b = new StringBuilder("flood: errors by reason:");
            for (ErrorReason r : ErrorReason.values()) {
                b.append(' ').append(r.label()).append('=').append(st.errors(r));
            }
            System.out.println(b + "; backend connections accepted " + backend.accepted() + ", open "
                    + backend.openConnections());
        }
        System.out.printf("flood: every slow client closed %.1f s after the last opened%n",
                (System.nanoTime() - flooded) / 1e9);
        drip.shutdownNow();
        normal.interrupt();
        normal.join(90_000);
        assertThat(normal.isAlive()).as("the normal client's last request was answered").isFalse();
        System.out.printf("flood: normal client got %d answers (longest wait %.1f s); %d slowloris saw their close;"
                        + " header_timeout %.0f, send_timeout %.0f%n", normalOk.get(), longestNormalWait.get() / 1e9,
                slowClosed.get(), errors(sluice, "header_timeout"), errors(sluice, "send_timeout"));
        assertThat(normalFailure.get()).as("every normal request succeeds").isNull();
        assertThat(normalOk.get()).isPositive();
        assertThat(errors(sluice, "header_timeout")).isEqualTo(SLOWLORIS);
        // A non-reader ends by send_timeout, unless the test's own backend broke off its response first (seen once in
        // a thousand at the full count, on a loaded machine): then the client's response is cut, which frees it too.
        assertThat(errors(sluice, "send_timeout") + errors(sluice, "broken_response")).isEqualTo(NON_READERS);
        assertThat(errors(sluice, "send_timeout")).isGreaterThanOrEqualTo(NON_READERS * 0.99);

        for (SocketChannel c : slow) {
            c.close();
        }
        for (Socket s : nonReaders) {
            s.close();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> sluice.listener("web").stats().active() == 0);
        await().atMost(Duration.ofSeconds(30)).until(() -> backend.openConnections() <= 2000);
        Memory after = Memory.now("after");
        System.out.println(before);
        System.out.println(during.get());
        System.out.println(after);
        assertThat(after.direct).as("direct memory back near its start (a generous bound: pooled arenas keep chunks)")
                .isLessThanOrEqualTo(before.direct + (256L << 20));
        // Past the JVM's direct limit every allocation fails (and, before this was guarded, the failure killed event
        // loops); Sluice sheds stalled readers well before it.
        assertThat(during.get().direct).as("peak direct memory under the JVM's limit").isLessThan(MAX_DIRECT);
        assertThat(LoopGuard.errors() - loopErrorsBefore).as("no Error escaped an event loop").isZero();
    }

    private static double errors(Sluice s, String reason) throws Exception {
        return sample(Proxies.admin(s, "/metrics").body(),
                "sluice_http_errors_total{listener=\"web\",reason=\"" + reason + "\"}");
    }

    private static String fdLimit() {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream()
                    .filter(l -> l.startsWith("Max open files")).findFirst().orElse("?").replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "?";
        }
    }

    /** Direct memory (the JDK's or Netty's count, the larger; and the pooled allocator's) and the resident set. */
    private record Memory(String when, long direct, long pooled, long rssKb) {
        static Memory now(String when) {
            long rss = -1;
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        rss = Long.parseLong(line.replaceAll("\\D", ""));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // not Linux: RSS unknown
            }
            return new Memory(when, DirectMemoryPressure.used(),
                    PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory(), rss);
        }

        @Override
        public String toString() {
            return String.format("flood memory %-6s: direct %,d KiB of %,d KiB (pooled allocator %,d KiB), RSS %,d KiB",
                    when, direct >> 10, MAX_DIRECT >> 10, pooled >> 10, rssKb);
        }
    }
}
