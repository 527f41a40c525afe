package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On an io_uring loop, bytes written and flushed inside a task reach the peer while that task still runs once
 * {@link EarlySubmit#now} is called; without it they wait for the end of the loop pass. The task blocks its loop
 * on purpose, reading from a plain socket: that is how "before the pass ends" is observed without timing.
 */
class EarlySubmitTest {
    private EventLoopGroup group;
    private ServerSocket server;
    private Channel channel;
    private Socket peer;

    @BeforeEach
    void connect() throws Exception {
        assumeThat(Transport.isAvailable(TransportKind.IO_URING)).as("io_uring on this machine").isTrue();
        Transport transport = Transport.select(TransportKind.IO_URING);
        group = transport.newGroup(1, "early-submit-test");
        server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        channel = new Bootstrap().group(group).channel(transport.channelClass())
                .handler(new ChannelInboundHandlerAdapter())
                .connect(server.getLocalSocketAddress()).sync().channel();
        peer = server.accept();
    }

    @AfterEach
    void close() throws Exception {
        if (peer != null) {
            peer.close();
        }
        if (server != null) {
            server.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aWriteLeavesAtOnceWhenTheLoopSubmitsEarly() throws Exception {
        peer.setSoTimeout(10_000);
        InputStream in = peer.getInputStream();
        byte[] got = channel.eventLoop().submit(() -> {
            channel.writeAndFlush(Unpooled.copiedBuffer("early", StandardCharsets.US_ASCII));
            EarlySubmit.now();
            return in.readNBytes(5); // the loop is held here: the bytes left with the early submission
        }).get(20, TimeUnit.SECONDS);
        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("early");
    }

    @Test
    void withoutItTheWriteWaitsForTheEndOfThePass() throws Exception {
        // What makes the test above meaningful: Netty submits once per pass, so nothing arrives while the task runs.
        peer.setSoTimeout(300);
        InputStream in = peer.getInputStream();
        boolean arrivedDuringTheTask = channel.eventLoop().submit(() -> {
            channel.writeAndFlush(Unpooled.copiedBuffer("late", StandardCharsets.US_ASCII));
            try {
                return in.read() >= 0;
            } catch (SocketTimeoutException expected) {
                return false;
            }
        }).get(20, TimeUnit.SECONDS);
        assertThat(arrivedDuringTheTask).isFalse();
        peer.setSoTimeout(10_000);
        assertThat(new String(in.readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("late");
    }
}
