package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.sluice.config.TransportKind;
import io.sluice.testing.Proxies;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A connection {@link UpstreamDialer} opens has what {@link ChannelOptions#upstream}'s Bootstrap gives, on every
 * transport, TCP_NODELAY included though only Netty sets it, and a refused connect fails its future.
 */
class UpstreamDialerTest {
    private static final RecvByteBufAllocator READS = BatchedReads.adaptiveSizes();

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "EPOLL", "IO_URING"})
    void connectsWithTheUpstreamOptions(TransportKind kind) throws Exception {
        Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available on this machine");
        Transport transport = Transport.select(kind);
        EventLoopGroup group = transport.newGroup(1, "dialer-test");
        ByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            UpstreamDialer dialer = new UpstreamDialer(transport, allocator, READS, true);
            EventLoop loop = group.next();
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
            ChannelFuture f = loop.submit(() -> dialer.connect(loop, address, Duration.ofMillis(1500),
                    new ChannelInboundHandlerAdapter())).get(5, TimeUnit.SECONDS);
            assertThat(f.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(f.isSuccess()).as("connected: %s", f.cause()).isTrue();
            Channel ch = f.channel();
            assertThat(ch.eventLoop()).isSameAs(loop);
            ChannelConfig c = ch.config();
            assertThat(c.isAutoRead()).isFalse();
            assertThat(c.getOption(ChannelOption.ALLOW_HALF_CLOSURE)).isTrue();
            assertThat(c.getOption(ChannelOption.TCP_NODELAY)).isTrue();
            assertThat(c.getOption(ChannelOption.SO_KEEPALIVE)).isTrue();
            assertThat(c.getWriteBufferWaterMark()).isSameAs(ChannelOptions.WATER_MARK);
            assertThat(c.getAllocator()).isSameAs(allocator);
            assertThat((Object) c.getRecvByteBufAllocator()).isSameAs(READS);
            assertThat(c.getConnectTimeoutMillis()).isEqualTo(1500);
            ch.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "EPOLL", "IO_URING"})
    void aRefusedConnectFailsAndClosesTheChannel(TransportKind kind) throws Exception {
        Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available on this machine");
        Transport transport = Transport.select(kind);
        EventLoopGroup group = transport.newGroup(1, "dialer-test");
        try {
            UpstreamDialer dialer = new UpstreamDialer(transport, PooledByteBufAllocator.DEFAULT, READS, false);
            EventLoop loop = group.next();
            InetSocketAddress nobody = new InetSocketAddress(InetAddress.getLoopbackAddress(), Proxies.freePort());
            ChannelFuture f = loop.submit(() -> dialer.connect(loop, nobody, Duration.ofSeconds(2),
                    new ChannelInboundHandlerAdapter())).get(5, TimeUnit.SECONDS);
            assertThat(f.await(5, TimeUnit.SECONDS)).isTrue();
            assertThat(f.isSuccess()).isFalse();
            assertThat(f.channel().closeFuture().await(5, TimeUnit.SECONDS)).isTrue();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
