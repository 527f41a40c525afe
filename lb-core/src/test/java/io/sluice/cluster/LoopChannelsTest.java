package io.sluice.cluster;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Open connections on real sockets, accepted on two loops: add, leave on close, count, walk, close all. */
class LoopChannelsTest {
    private final LoopChannels channels = new LoopChannels();
    /** Every accepted channel, to check what the set holds against. */
    private final Set<Channel> accepted = ConcurrentHashMap.newKeySet();
    private final List<Socket> clients = new ArrayList<>();
    private EventLoopGroup group;
    private Channel server;

    @BeforeEach
    void listen() {
        Transport transport = Transport.select(TransportKind.AUTO);
        group = transport.newGroup(2, "loop-channels-test");
        server = new ServerBootstrap().group(group).channel(transport.serverChannelClass())
                .childHandler(new Track())
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    @ChannelHandler.Sharable
    private final class Track extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channels.add(ctx.channel());
            accepted.add(ctx.channel());
        }
    }

    @AfterEach
    void stop() throws Exception {
        for (Socket s : clients) {
            s.close();
        }
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void connect(int n) throws IOException {
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        for (int i = 0; i < n; i++) {
            clients.add(new Socket("127.0.0.1", port));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> accepted.size() == n);
    }

    @Test
    void holdsTheOpenChannelsOfEveryLoopAndLetsAClosedOneGo() throws Exception {
        connect(6);
        assertEquals(2, accepted.stream().map(Channel::eventLoop).distinct().count(), "accepted on both loops");
        assertEquals(6, channels.count());

        List<Channel> two = accepted.stream().limit(2).toList();
        two.get(0).close().sync();
        two.get(1).close().sync();
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 4);
    }

    @Test
    void closeRunsTheFirstActionThenClosesEveryChannelOnItsOwnLoop() throws Exception {
        connect(5);
        Set<Channel> firstOnOwnLoop = ConcurrentHashMap.newKeySet();
        assertTrue(channels.close(ch -> {
            if (ch.eventLoop().inEventLoop() && ch.isOpen()) {
                firstOnOwnLoop.add(ch);
            }
        }, 5, TimeUnit.SECONDS));
        assertEquals(accepted, firstOnOwnLoop);
        for (Channel ch : accepted) {
            assertFalse(ch.isOpen());
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 0);
        for (Socket s : clients) {
            // The client sees the close: the end of its input.
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read());
        }
    }

    @Test
    void closeAllClosesEveryChannelWithoutWaitingAndCountFollows() throws Exception {
        connect(6);
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 6);
        accepted.iterator().next().close().sync();
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 5);

        channels.closeAll();
        await().atMost(Duration.ofSeconds(10)).until(() -> accepted.stream().noneMatch(Channel::isOpen));
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 0);
    }

    @Test
    void forEachVisitsEveryChannelOnItsLoopAndMayCloseIt() throws Exception {
        connect(6);
        Set<Channel> visited = ConcurrentHashMap.newKeySet();
        AtomicBoolean offLoop = new AtomicBoolean();
        channels.forEach(ch -> {
            if (!ch.eventLoop().inEventLoop()) {
                offLoop.set(true);
            }
            visited.add(ch);
            ch.close(); // removes it from the set being walked: the walk is over a copy
        }, 5, TimeUnit.SECONDS);
        assertFalse(offLoop.get());
        assertEquals(accepted, visited);
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 0);
    }

    @Test
    void aClosedOrNeverRegisteredChannelIsLeftOut() throws Exception {
        connect(1);
        Channel ch = accepted.iterator().next();
        ch.close().sync();
        channels.add(ch);
        Transport transport = Transport.select(TransportKind.AUTO);
        Channel unregistered = transport.channelClass().getDeclaredConstructor().newInstance();
        try {
            channels.add(unregistered);
        } finally {
            unregistered.unsafe().closeForcibly();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> channels.count() == 0);
    }

    @Test
    void closeAfterTheLoopsAreGoneReturnsAtOnce() throws Exception {
        connect(2);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        channels.close(null, 5, TimeUnit.SECONDS);
        channels.forEach(ch -> { }, 5, TimeUnit.SECONDS);
        for (Channel ch : accepted) {
            assertFalse(ch.isOpen()); // the loops closed them as they went
        }
    }
}
