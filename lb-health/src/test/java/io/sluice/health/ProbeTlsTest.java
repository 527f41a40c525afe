package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A probe with {@link ProbeSpec#tls()} waits for the TLS layer lb-core supplies, and fails when it fails. */
class ProbeTlsTest {
    private EventLoopGroup group;
    private final List<String> events = new CopyOnWriteArrayList<>();
    private HealthChecker checker;

    @BeforeEach
    void setUp() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        checker = new HealthChecker(group, NioSocketChannel.class, new HealthListener() {
            @Override
            public void stateChanged(HealthTarget target, boolean up, String reason) {
                events.add(target.label() + " " + (up ? "UP " : "DOWN ") + reason);
            }

            @Override
            public void probed(HealthTarget target, ProbeResult result, long durationNanos) {
            }
        });
    }

    @AfterEach
    void tearDown() {
        checker.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static ProbeSpec tcp() {
        return ProbeSpec.tcp(Duration.ofMillis(50), Duration.ofSeconds(1), 1, 2);
    }

    /** A real TLS client (the JDK engine, trusting anything) that meets a server speaking plain HTTP. */
    @Test
    void aTlsProbeToAPlainServerFailsWithTheHandshakeInTheReason() throws Exception {
        SslContext client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK)
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build();
        ProbeTls tls = (ch, target) -> {
            SslHandler h = client.newHandler(ch.alloc());
            ch.pipeline().addFirst(h);
            return h.handshakeFuture();
        };
        try (PlainSpeaker plain = new PlainSpeaker()) {
            checker.add("s-tls", () -> local(plain.port()), tcp().withTls(tls), true, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).hasSize(1);
            assertThat(events.get(0)).startsWith("s-tls DOWN after 2 failed tcp checks: TLS handshake failed: ");
        }
    }

    /** The HTTP request goes out only once the layer is ready, and the check passes through it. */
    @Test
    void anHttpCheckWaitsForTheLayerThenPasses() throws Exception {
        AtomicInteger layers = new AtomicInteger();
        ProbeTls ready = (ch, target) -> {
            layers.incrementAndGet();
            return ch.eventLoop().schedule(() -> ch, 20, TimeUnit.MILLISECONDS);
        };
        try (HealthCheckerTest.FakeHttp http = new HealthCheckerTest.FakeHttp(0)) {
            ProbeSpec spec = new ProbeSpec(ProbeSpec.Kind.HTTP, "GET", "/health", null, List.of(new int[] {200, 399}),
                    null, Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ZERO, 1, 1, 0).withTls(ready);
            checker.add("s", () -> local(http.port()), spec, false, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> !events.isEmpty());
            assertThat(events).containsExactly("s UP after 1 passed http check");
            assertThat(layers.get()).isPositive();
        }
    }

    private static InetSocketAddress local(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Answers every connection's first bytes with a plain-text response and closes it: not TLS. */
    private static final class PlainSpeaker implements AutoCloseable {
        private final ServerSocket server;

        PlainSpeaker() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        s.getInputStream().read(); // the ClientHello
                        OutputStream out = s.getOutputStream();
                        out.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                    } catch (IOException e) {
                        // a probe that gave up; the next one comes
                    }
                }
            }, "plain-speaker");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
