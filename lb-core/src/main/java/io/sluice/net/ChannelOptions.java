package io.sluice.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannel;
import io.sluice.config.ListenerConfig;
import io.netty.util.internal.PlatformDependent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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

    /**
     * SO_KEEPALIVE (SOL_SOCKET 1, SO_KEEPALIVE 9 on Linux) as a raw option: Netty's server channel configs do not
     * take {@link ChannelOption#SO_KEEPALIVE}, but its native ones take raw socket options, and Linux copies the
     * flag (and arms the keepalive timer) to every socket a listener accepts.
     */
    static final IntegerUnixChannelOption LISTENER_KEEPALIVE = new IntegerUnixChannelOption("SO_KEEPALIVE", 1, 9);

    private ChannelOptions() {
    }

    /**
     * A listening socket whose accepted connections read only when asked (autoRead off: the proxy reads a
     * side when the other can take the bytes) and see a client's half-close as an event, not a close.
     */
    public static ServerBootstrap listener(ListenerConfig config, Transport transport, EventLoopGroup workers,
                                           ByteBufAllocator allocator, RecvByteBufAllocator reads) {
        ServerBootstrap b = new ServerBootstrap()
                .group(workers)
                .channel(transport.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, config.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, reads);
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            // Elsewhere Netty sets it on every accepted channel already: again would be a setsockopt per accept.
            b.childOption(ChannelOption.TCP_NODELAY, true);
        }
        if (keepAliveInherited(transport.serverChannelClass())) {
            // Once on the listener instead of a setsockopt per accepted connection; ListeningSocket checks it took.
            b.option(LISTENER_KEEPALIVE, 1);
        } else {
            b.childOption(ChannelOption.SO_KEEPALIVE, true);
        }
        IoUringRecvRing.setting(transport).ifPresent(s -> s.applyToChildren(b));
        if (transport.isEpoll()) {
            b.handler(EpollInterest.CHILDREN);
        }
        return b;
    }

    /**
     * A connection to a server, on {@code loop}: the client connection's own loop, so that both sides of a
     * relay or an exchange run on one thread and need no locks. {@code halfClosure} for byte relays, which pass
     * a FIN on; an HTTP pool connection treats a server's FIN as the end of the connection.
     */
    public static Bootstrap upstream(EventLoop loop, Transport transport, Duration connectTimeout,
                                     ByteBufAllocator allocator, RecvByteBufAllocator reads, boolean halfClosure) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.channelClass())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis(connectTimeout));
        for (Setting<?> s : upstreamSettings(transport, allocator, reads, halfClosure)) {
            s.applyTo(b);
        }
        return b;
    }

    /**
     * What {@link #upstream} sets on a server connection besides its connect timeout, for {@link UpstreamDialer},
     * which sets them without a Bootstrap. TCP_NODELAY only where Netty does not already set it on every new
     * socket channel (it does on Linux, where setting it again costs a setsockopt per connection).
     */
    static List<Setting<?>> upstreamSettings(Transport transport, ByteBufAllocator allocator,
                                             RecvByteBufAllocator reads, boolean halfClosure) {
        List<Setting<?>> list = new ArrayList<>();
        list.add(new Setting<>(ChannelOption.AUTO_READ, false));
        list.add(new Setting<>(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure));
        if (!PlatformDependent.canEnableTcpNoDelayByDefault()) {
            list.add(new Setting<>(ChannelOption.TCP_NODELAY, true));
        }
        list.add(new Setting<>(ChannelOption.SO_KEEPALIVE, true));
        list.add(new Setting<>(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK));
        list.add(new Setting<>(ChannelOption.ALLOCATOR, allocator));
        list.add(new Setting<>(ChannelOption.RCVBUF_ALLOCATOR, reads));
        IoUringRecvRing.setting(transport).ifPresent(list::add);
        return List.copyOf(list);
    }

    /**
     * Whether sockets accepted by a listener of this class get SO_KEEPALIVE from it: the native (epoll, io_uring)
     * ones, which are Linux's. NIO's server channel has no such option; its accepted channels set their own.
     */
    static boolean keepAliveInherited(Class<? extends Channel> serverChannelClass) {
        return UnixChannel.class.isAssignableFrom(serverChannelClass);
    }

    /**
     * Whether connections {@code listener} accepts have SO_KEEPALIVE: set on each (NIO) or, for a native listener,
     * on the listening socket itself, which this reads back (one getsockopt per bind).
     */
    static boolean acceptedKeepAlive(Channel listener) {
        if (!keepAliveInherited(listener.getClass())) {
            return true;
        }
        Integer on = listener.config().getOption(LISTENER_KEEPALIVE);
        return on != null && on != 0;
    }

    static int connectTimeoutMillis(Duration connectTimeout) {
        return (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
    }

    /** One channel option and its value, applied the same way to a Bootstrap or straight to a channel. */
    record Setting<T>(ChannelOption<T> option, T value) {
        void applyTo(Bootstrap b) {
            b.option(option, value);
        }

        void applyToChildren(ServerBootstrap b) {
            b.childOption(option, value);
        }

        void applyTo(ChannelConfig config) {
            config.setOption(option, value);
        }
    }
}
