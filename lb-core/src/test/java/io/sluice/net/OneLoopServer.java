package io.sluice.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A server on one event loop of Sluice's own transport (guarded as Sluice's are), on a free loopback port. */
final class OneLoopServer implements AutoCloseable {
    final EventLoopGroup group;
    final Channel channel;

    OneLoopServer(TransportKind kind, String name, ChannelHandler childHandler,
                  UnaryOperator<ServerBootstrap> options) {
        Transport transport = Transport.select(kind);
        group = transport.newGroup(1, name);
        channel = options.apply(new ServerBootstrap().group(group).channel(transport.serverChannelClass()))
                .childHandler(childHandler)
                .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
    }

    int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() throws InterruptedException {
        channel.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
