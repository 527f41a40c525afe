package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.config.TransportKind;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The idle timeout counts a connection's reads and writes as activity (stamped with the loop's pass time, not a
 * clock read each): a connection that keeps writing, or keeps being written to, outlives its timeout many times
 * over; once it goes quiet it is closed as idle.
 */
class IdleTimeoutTest {
    private static final long IDLE_MILLIS = 300;

    private final AtomicInteger idleEvents = new AtomicInteger();
    private final AtomicBoolean serverWrites = new AtomicBoolean();
    private final AtomicReference<Channel> served = new AtomicReference<>();
    @AutoClose
    private OneLoopServer server;

    /** Closes on its idle event; while {@link #serverWrites}, writes a byte every 50 ms; discards what it reads. */
    private int start() {
        server = new OneLoopServer(TransportKind.AUTO, "idle-test", new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(ConnectionTimeouts.idle(TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS)),
                        new ChannelInboundHandlerAdapter() {
                            private ScheduledFuture<?> writer;

                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                served.set(ctx.channel());
                                writer = ctx.executor().scheduleAtFixedRate(() -> {
                                    if (serverWrites.get()) {
                                        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('x'));
                                    }
                                }, 50, 50, TimeUnit.MILLISECONDS);
                                ctx.fireChannelActive();
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ((ByteBuf) msg).release();
                            }

                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt == IdleStateEvent.ALL_IDLE_STATE_EVENT) {
                                    idleEvents.incrementAndGet();
                                    ctx.close();
                                }
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                writer.cancel(false);
                                ctx.fireChannelInactive();
                            }
                        });
            }
        }, b -> b);
        return server.port();
    }

    @Test
    void aConnectionThatKeepsWritingIsNotIdleAndIsClosedOnceQuiet() throws Exception {
        serverWrites.set(true);
        try (Socket client = new Socket("127.0.0.1", start())) {
            InputStream in = client.getInputStream();
            Thread reader = new Thread(() -> {
                try {
                    while (in.read() >= 0) {
                        // the server's bytes, read so that its writes never stall
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            });
            reader.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> served.get() != null);
            // Five timeouts long with only the server writing: no idle event.
            await().during(Duration.ofMillis(5 * IDLE_MILLIS)).atMost(Duration.ofSeconds(10))
                    .until(() -> served.get().isOpen() && idleEvents.get() == 0);
            serverWrites.set(false);
            await().atMost(Duration.ofSeconds(10)).until(() -> !served.get().isOpen());
            assertThat(idleEvents.get()).as("closed as idle once quiet").isEqualTo(1);
            reader.join(10_000);
        }
    }

    @Test
    void aConnectionThatKeepsSendingIsNotIdleAndIsClosedOnceQuiet() throws Exception {
        try (Socket client = new Socket("127.0.0.1", start())) {
            OutputStream out = client.getOutputStream();
            await().atMost(Duration.ofSeconds(10)).until(() -> served.get() != null);
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5 * IDLE_MILLIS);
            // The client sends a byte whenever asked (Awaitility's poll, every 50 ms) for five timeouts.
            await().during(Duration.ofMillis(5 * IDLE_MILLIS)).atMost(Duration.ofSeconds(10))
                    .pollInterval(Duration.ofMillis(50)).until(() -> {
                        if (System.nanoTime() - until < 0) {
                            out.write('y');
                            out.flush();
                        }
                        return served.get().isOpen() && idleEvents.get() == 0;
                    });
            await().atMost(Duration.ofSeconds(10)).until(() -> !served.get().isOpen());
            assertThat(idleEvents.get()).as("closed as idle once quiet").isEqualTo(1);
            assertThat(client.getInputStream().read()).isEqualTo(-1);
        }
    }
}
