package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import io.sluice.net.HeavySteps;
import io.sluice.net.Transport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On a paced loop (the proxy's own kind, NIO here), a handshake read that finds the pass's heavy step spent holds
 * the connection's inbound events, in order, until its turn in a later pass; once the engine has answered, reads
 * skip the queue; a handler leaving while events are held hands them on at once. The events are fired by hand
 * from the loop, on a channel that is registered but not connected: what is tested is the order, not the socket.
 */
class HandshakeTurnPacingTest {
    private EventLoopGroup group;
    private Channel channel;
    private final List<String> seen = new CopyOnWriteArrayList<>();

    /** Stands for the SNI and TLS handlers and whatever is behind them: writes down each event. */
    private final class Recorder extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            seen.add("read " + b.toString(StandardCharsets.US_ASCII));
            b.release();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            seen.add("read complete");
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            seen.add("event " + evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            seen.add("caught " + cause.getMessage());
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            seen.add("inactive");
        }
    }

    @BeforeEach
    void register() throws Exception {
        Transport nio = Transport.select(TransportKind.NIO);
        group = nio.newGroup(1, "handshake-turn-test");
        channel = new Bootstrap().group(group).channel(nio.channelClass())
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(HandshakeTurn.NAME, new HandshakeTurn());
                        ch.pipeline().addLast("tls", new Recorder());
                    }
                }).register().sync().channel();
    }

    @AfterEach
    void close() throws Exception {
        channel.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** Runs on the loop after spending the pass's heavy step, as another connection's handshake would have. */
    private List<String> afterAnotherHandshake(Runnable events) throws Exception {
        return channel.eventLoop().submit(() -> {
            assertThat(HeavySteps.mayStartNow()).isTrue();
            events.run();
            return List.copyOf(seen);
        }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aHelloThatFindsThePassSpentWaitsForItsTurnWithEverythingBehindIt() throws Exception {
        List<String> duringThePass = afterAnotherHandshake(() -> {
            channel.pipeline().fireChannelRead(ascii("hello"));
            channel.pipeline().fireChannelReadComplete();
            channel.pipeline().fireUserEventTriggered("timeout");
            channel.pipeline().fireExceptionCaught(new IllegalStateException("reset"));
            channel.pipeline().fireChannelRead(ascii(" again"));
        });
        assertThat(duringThePass).isEmpty();
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 5);
        assertThat(seen).containsExactly("read hello", "read complete", "event timeout", "caught reset", "read  again");
    }

    @Test
    void aClientGoneBeforeItsTurnCostsNoHandshake() throws Exception {
        ByteBuf hello = ascii("hello");
        List<String> duringThePass = afterAnotherHandshake(() -> {
            channel.pipeline().fireChannelRead(hello);
            channel.pipeline().fireChannelReadComplete();
            channel.pipeline().fireUserEventTriggered("timeout");
            channel.pipeline().fireChannelInactive();
        });
        assertThat(duringThePass).containsExactly("event timeout", "inactive");
        assertThat(hello.refCnt()).as("the held ClientHello is released, not handed on").isZero();
        assertThat(channel.eventLoop().schedule(() -> List.copyOf(seen), 5, TimeUnit.MILLISECONDS)
                .get(10, TimeUnit.SECONDS)).as("its turn finds nothing to do").containsExactly("event timeout", "inactive");
    }

    @Test
    void readsAfterTheEnginesFirstFlightSkipTheQueue() throws Exception {
        List<String> duringThePass = afterAnotherHandshake(() -> {
            channel.write(ascii("server hello")); // fails (not connected) but has passed the turn handler
            channel.pipeline().fireChannelRead(ascii("finished"));
        });
        assertThat(duringThePass).containsExactly("read finished");
    }

    @Test
    void leavingWhileHoldingHandsTheEventsOnAtOnce() throws Exception {
        List<String> duringThePass = afterAnotherHandshake(() -> {
            channel.pipeline().fireChannelRead(ascii("hello"));
            channel.pipeline().fireChannelReadComplete();
            channel.pipeline().remove(HandshakeTurn.NAME);
            channel.pipeline().fireChannelRead(ascii("more"));
        });
        assertThat(duringThePass).containsExactly("read hello", "read complete", "read more");
        // Its turn still comes and finds nothing to do.
        assertThat(channel.eventLoop().schedule(() -> List.copyOf(seen), 5, TimeUnit.MILLISECONDS)
                .get(10, TimeUnit.SECONDS)).containsExactly("read hello", "read complete", "read more");
    }

    @Test
    void withTheStepFreeAHelloGoesThroughAtOnce() throws Exception {
        List<String> duringThePass = channel.eventLoop().submit(() -> {
            channel.pipeline().fireChannelRead(ascii("hello"));
            return List.copyOf(seen);
        }).get(10, TimeUnit.SECONDS);
        assertThat(duringThePass).containsExactly("read hello");
    }
}
