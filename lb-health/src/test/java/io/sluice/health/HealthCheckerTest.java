package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HealthCheckerTest {
    private EventLoopGroup group;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> probes = new ConcurrentHashMap<>();
    private HealthChecker checker;

    @BeforeEach
    void setUp() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        checker = new HealthChecker(group, NioSocketChannel.class, new HealthListener() {
            @Override
            public void stateChanged(HealthTarget target, boolean up, String reason) {
                events.add(target.label() + " " + (up ? "UP " : "DOWN ") + reason);
            }

            @Override
            public void probed(HealthTarget target, ProbeResult result, long durationNanos) {
                probes.computeIfAbsent(target.label() + ":" + result.outcome().label(), k -> new AtomicInteger())
                        .incrementAndGet();
            }
        });
    }

    @AfterEach
    void tearDown() {
        checker.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** A blocking HTTP server whose answer the test can change while it runs. */
    static final class FakeHttp implements AutoCloseable {
        final ServerSocket server;
        final AtomicReference<String> response = new AtomicReference<>(reply(200, "ok"));
        volatile boolean stall;

        FakeHttp(int port) throws IOException {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            Thread t = new Thread(this::loop, "fake-http");
            t.setDaemon(true);
            t.start();
        }

        static String reply(int status, String body) {
            return "HTTP/1.1 " + status + " X\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n"
                    + body;
        }

        private void loop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                StringBuilder head = new StringBuilder();
                int c;
                while ((c = in.read()) >= 0) {
                    head.append((char) c);
                    if (head.toString().endsWith("\r\n\r\n")) {
                        break;
                    }
                }
                if (stall) {
                    in.transferTo(OutputStream.nullOutputStream());
                    return;
                }
                s.getOutputStream().write(response.get().getBytes(StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
                // the checker closed the probe
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static ProbeSpec http(String body) {
        return new ProbeSpec(ProbeSpec.Kind.HTTP, "GET", "/health", null, List.of(new int[] {200, 399}), body,
                Duration.ofMillis(50), Duration.ofMillis(200), Duration.ZERO, 2, 3, 0);
    }

    private static InetSocketAddress local(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    @Test
    void httpServerAnswering500GoesDownWithTheStatusInTheReason() throws Exception {
        try (FakeHttp http = new FakeHttp(0)) {
            checker.add("app/s1", () -> local(http.port()), http(null), true, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> probes.containsKey("app/s1:success"));
            assertThat(events).isEmpty();
            http.response.set(FakeHttp.reply(503, "nope"));
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).containsExactly("app/s1 DOWN after 3 failed http checks: status 503");
            http.response.set(FakeHttp.reply(200, "fine"));
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
            assertThat(events.get(1)).isEqualTo("app/s1 UP after 2 passed http checks");
        }
    }

    @Test
    void bodyMismatchFails() throws Exception {
        try (FakeHttp http = new FakeHttp(0)) {
            http.response.set(FakeHttp.reply(200, "status: degraded"));
            checker.add("s", () -> local(http.port()), http("status: ok"), true, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events.get(0)).startsWith("s DOWN after 3 failed http checks: status 200 but body lacks");
        }
    }

    @Test
    void stalledServerGoesDownByTimeout() throws Exception {
        try (FakeHttp http = new FakeHttp(0)) {
            http.stall = true;
            checker.add("s", () -> local(http.port()), http(null), true, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events.get(0)).isEqualTo("s DOWN after 3 failed http checks: timeout after 200ms");
            assertThat(probes.get("s:timeout").get()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void killedServerGoesDownAndRejoinsWhenRestarted() throws Exception {
        FakeHttp http = new FakeHttp(0);
        int port = http.port();
        checker.add("s", () -> local(port), ProbeSpec.tcp(Duration.ofMillis(50), Duration.ofMillis(200), 2, 2),
                true, null);
        await().atMost(Duration.ofSeconds(10)).until(() -> probes.containsKey("s:success"));
        http.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
        assertThat(events.get(0)).isEqualTo("s DOWN after 2 failed tcp checks: connection refused");
        try (FakeHttp again = new FakeHttp(port)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 2);
            assertThat(events.get(1)).isEqualTo("s UP after 2 passed tcp checks");
        }
    }

    @Test
    void unknownAddressSkipsTheRoundWithoutFailing() throws Exception {
        // The address is read once per round: counting the reads shows that rounds came and went.
        AtomicInteger rounds = new AtomicInteger();
        HealthTarget t = checker.add("s", () -> {
            rounds.incrementAndGet();
            return null;
        }, ProbeSpec.tcp(Duration.ofMillis(20), Duration.ofMillis(20), 1, 1), true, null);
        // With fall 1, a single skipped round counted as a failure would have taken the target down; rounds run
        // one after the other on one loop, so by the fifth read the first four have finished.
        await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() >= 5);
        assertThat(probes).as("probes run without an address").isEmpty();
        assertThat(events).isEmpty();
        assertThat(t.up()).isTrue();
    }

    @Test
    void probingResumesOnceTheAddressIsKnown() throws Exception {
        try (FakeHttp http = new FakeHttp(0)) {
            AtomicInteger rounds = new AtomicInteger();
            HealthTarget t = checker.add("s", () -> rounds.incrementAndGet() <= 3 ? null : local(http.port()),
                    ProbeSpec.tcp(Duration.ofMillis(20), Duration.ofMillis(200), 1, 1), false, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).containsExactly("s UP after 1 passed tcp check");
            assertThat(rounds.get()).isGreaterThan(3);
            assertThat(t.up()).isTrue();
        }
    }

    @Test
    void aThousandTargetsAreCheckedWithoutNewThreads() throws Exception {
        // One thread accepts and closes: the listening side adds no threads while probes run.
        try (ServerSocket live = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                while (!live.isClosed()) {
                    try {
                        live.accept().close();
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "accept-and-close");
            acceptor.setDaemon(true);
            acceptor.start();
            int dead;
            try (ServerSocket s = new ServerSocket(0)) {
                dead = s.getLocalPort();
            }
            int deadPort = dead;
            group.forEach(loop -> loop.submit(() -> { }).syncUninterruptibly()); // loops start lazily
            int threadsBefore = Thread.activeCount();
            for (int i = 0; i < 1000; i++) {
                int port = i % 2 == 0 ? live.getLocalPort() : deadPort;
                checker.add("t" + i, () -> local(port), ProbeSpec.tcp(Duration.ofMillis(300), Duration.ofSeconds(1),
                        1, 2), true, null);
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> events.size() >= 500);
            assertThat(events).hasSize(500).allSatisfy(e -> assertThat(e)
                    .matches("t\\d*[13579] DOWN after 2 failed tcp checks: connection refused"));
            assertThat(probes.keySet().stream().filter(k -> k.endsWith(":success")).count()).isEqualTo(500);
            assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore);
            assertThat(checker.size()).isEqualTo(1000);
        }
    }
}
