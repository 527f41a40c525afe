package io.sluice.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.sluice.config.ListenerConfig;
import java.time.Duration;

/**
 * The socket options of every proxied connection, client side and server side, in one place: the TCP relay,
 * the HTTP proxy and its pools differ only in how they read and whether a half-close is passed on.
 */
public final class ChannelOptions {
    /**
     * Sized so that one connection keeps a few socket buffers in flight: enough to fill a fast link, small
     * enough that a slow reader holds at most 256 KiB per direction, plus the read under way (up to 256 KiB),
     * before reads on the other side stop.
     */
    public static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(64 * 1024, 256 * 1024);

    private ChannelOptions() {
    }

    /**
     * A listening socket whose accepted connections read only when asked (autoRead off: the proxy reads a
     * side when the other can take the bytes) and see a client's half-close as an event, not a close.
     */
    public static ServerBootstrap listener(ListenerConfig config, Transport transport, EventLoopGroup workers,
                                           ByteBufAllocator allocator, RecvByteBufAllocator reads) {
        return new ServerBootstrap()
                .group(workers)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, config.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, reads);
    }

    /**
     * A connection to a server, on {@code loop}: the client connection's own loop, so that both sides of a
     * relay or an exchange run on one thread and need no locks. {@code halfClosure} for byte relays, which pass
     * a FIN on; an HTTP pool connection treats a server's FIN as the end of the connection.
     */
    public static Bootstrap upstream(EventLoop loop, Transport transport, Duration connectTimeout,
                                     ByteBufAllocator allocator, RecvByteBufAllocator reads, boolean halfClosure) {
        return new Bootstrap()
                .group(loop)
                .channel(transport.channelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .option(ChannelOption.ALLOCATOR, allocator)
                .option(ChannelOption.RCVBUF_ALLOCATOR, reads);
    }
}
