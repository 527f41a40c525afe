package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.ConfigLoader;
import io.sluice.config.ListenerConfig;
import io.sluice.config.TransportKind;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Connections a listener accepts have SO_KEEPALIVE on every transport, read back from the accepted socket. On
 * the native transports no option is set per connection: they get it from the listening socket (the kernel
 * copies it at accept), which {@link ListeningSocket} checks once at bind. NIO sets it on each connection.
 */
class ListenerKeepAliveTest {
    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "EPOLL", "IO_URING"})
    void acceptedConnectionsHaveKeepAlive(TransportKind kind) throws Exception {
        Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available on this machine");
        Transport transport = Transport.select(kind);
        ListenerConfig config = ConfigLoader.parse("""
                listeners:
                  - { name: a, bind: "127.0.0.1:0", cluster: app }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """).listeners().get(0);
        EventLoopGroup group = transport.newGroup(1, "keepalive-test");
        AtomicReference<Channel> accepted = new AtomicReference<>();
        ListeningSocket socket = new ListeningSocket(false);
        try {
            ServerBootstrap b = ChannelOptions.listener(config, transport, group, PooledByteBufAllocator.DEFAULT,
                            BatchedReads.INSTANCE)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accepted.set(ch);
                        }
                    });
            boolean inherited = !kind.equals(TransportKind.NIO);
            assertThat(ChannelOptions.keepAliveInherited(transport.serverChannelClass())).isEqualTo(inherited);
            assertThat(b.config().childOptions().containsKey(ChannelOption.SO_KEEPALIVE))
                    .as("set per accepted connection").isEqualTo(!inherited);
            socket.bind(b, config.bind());
            try (Socket client = new Socket(InetAddress.getLoopbackAddress(), socket.localAddress().getPort())) {
                await().atMost(Duration.ofSeconds(5)).until(() -> accepted.get() != null);
                Channel ch = accepted.get();
                assertThat(ch.config().getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
                assertThat(ch.config().getOption(ChannelOption.TCP_NODELAY)).isTrue();
                assertThat(ch.config().isAutoRead()).isFalse();
                ch.close().sync();
            }
        } finally {
            socket.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
