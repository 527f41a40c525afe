package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.sluice.config.TransportKind;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Under direct memory pressure a client that does not read is closed at once rather than after its
 * {@code send_timeout}: a thousand of them each holding a full write buffer would otherwise take direct memory to
 * the JVM's limit before any timeout ran out (seen in the 5,000 + 1,000 slow-client flood). The timeout here is
 * long, so only the pressure rule can close the connection within the test's wait.
 */
class SendTimeoutUnderPressureTest {
    private static final long TIMEOUT_SECONDS = 40;

    private final AtomicBoolean pressure = new AtomicBoolean();
    private final AtomicInteger timeouts = new AtomicInteger();
    private final AtomicReference<Channel> served = new AtomicReference<>();
    @AutoClose
    private OneLoopServer server;

    /** A server that sends 4 MiB to each client as soon as it connects, watched by a long send timeout. */
    private int start() {
        server = new OneLoopServer(TransportKind.AUTO, "pressure-test", new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ConnectionTimeouts(0, TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS),
                        timeouts::incrementAndGet, pressure::get), new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                served.set(ctx.channel());
                                for (int i = 0; i < 16; i++) {
                                    ctx.write(ctx.alloc().directBuffer(256 * 1024).writeZero(256 * 1024));
                                }
                                ctx.flush();
                            }
                        });
            }
        }, b -> b.childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, ChannelOptions.WATER_MARK));
        return server.port();
    }

    private static Socket nonReader(int port) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return s;
    }

    @Test
    void aClientThatStopsReadingUnderPressureIsClosedAtOnce() throws Exception {
        pressure.set(true);
        try (Socket s = nonReader(start())) {
            await().atMost(Duration.ofSeconds(20)).until(() -> served.get() != null && !served.get().isOpen());
        }
        assertThat(timeouts.get()).as("counted as a send timeout").isEqualTo(1);
    }

    @Test
    void aClientAlreadyStalledIsClosedAtTheNextCheckOncePressureRises() throws Exception {
        try (Socket s = nonReader(start())) {
            await().atMost(Duration.ofSeconds(10)).until(() -> served.get() != null && !served.get().isWritable());
            assertThat(served.get().isOpen()).isTrue();
            pressure.set(true);
            // The next check comes within a quarter of the timeout; the timeout itself is far off.
            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS / 2)).until(() -> !served.get().isOpen());
        }
        assertThat(timeouts.get()).isEqualTo(1);
    }

    @Test
    void pressureIsAShareOfTheLimit() {
        assertThat(new DirectMemoryPressure(Long.MAX_VALUE).high()).isFalse();
        assertThat(new DirectMemoryPressure(0).high()).isEqualTo(DirectMemoryPressure.used() > 0);
    }
}
