package io.sluice.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ReflectiveChannelFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * Opens server connections with the options of {@link ChannelOptions#upstream}, without a {@code Bootstrap} per
 * connect. A Bootstrap copies its option map into a new array on every connect, and hands the connect itself to a
 * task of its own even on the loop it belongs to; this sets the options on the new channel directly and connects
 * at once. For a caller that opens a connection per client connection (the TCP relay); one per listener, used on
 * any of its loops.
 */
public final class UpstreamDialer {
    private final Transport transport;
    private final ChannelFactory<? extends Channel> channels;
    private final ByteBufAllocator allocator;
    private final RecvByteBufAllocator reads;
    private final boolean halfClosure;
    private final List<ChannelOptions.Setting<?>> settings;
    /** Connections read from io_uring's provided-buffer ring: they need {@link UnendedReadBatches}. */
    private final boolean ring;
    /** Epoll connections that pass a half-close on keep their epoll registration: {@link EpollInterest}. */
    private final boolean epoll;

    public UpstreamDialer(Transport transport, ByteBufAllocator allocator, RecvByteBufAllocator reads,
                          boolean halfClosure) {
        this.transport = transport;
        this.channels = new ReflectiveChannelFactory<>(transport.channelClass());
        this.allocator = allocator;
        this.reads = reads;
        this.halfClosure = halfClosure;
        this.settings = ChannelOptions.upstreamSettings(transport, allocator, reads, halfClosure);
        this.ring = IoUringRecvRing.setting(transport).isPresent();
        this.epoll = transport.isEpoll() && halfClosure;
    }

    /**
     * Connects a new channel with {@code handler} to {@code address} on {@code loop}, the caller's loop. The
     * future fails when the channel cannot be made, registered or connected, as {@code Bootstrap.connect}'s does.
     */
    public ChannelFuture connect(EventLoop loop, InetSocketAddress address, Duration connectTimeout,
                                 ChannelHandler handler) {
        return connect(loop, address, connectTimeout, handler, null);
    }

    /**
     * The same, with the connect timeout kept by {@code deadline} (the client connection's clock) rather than a
     * Netty task of the channel's own; null: Netty's.
     */
    public ChannelFuture connect(EventLoop loop, InetSocketAddress address, Duration connectTimeout,
                                 ChannelHandler handler, ConnectDeadline deadline) {
        int timeoutMillis = ChannelOptions.connectTimeoutMillis(connectTimeout);
        Channel ch;
        try {
            ch = channels.newChannel();
        } catch (RuntimeException e) {
            // No socket (no file descriptors left, say): the Bootstrap fails the same way, with the stand-in
            // channel its callers already expect.
            return ChannelOptions.upstream(loop, transport, connectTimeout, allocator, reads, halfClosure)
                    .handler(handler).connect(address);
        }
        try {
            ch.config().setConnectTimeoutMillis(deadline == null ? timeoutMillis : 0);
            for (ChannelOptions.Setting<?> s : settings) {
                s.applyTo(ch.config());
            }
            if (ring) {
                UnendedReadBatches.addTo(ch);
            }
            if (epoll) {
                EpollInterest.keep(ch); // before it registers: free
            }
            ch.pipeline().addLast(handler);
        } catch (Throwable t) {
            // A failed setsockopt (epoll throws) must not leak the socket, nor the caller's lease and slot, which
            // are given back on a failed future: as Bootstrap does, close it and fail the connect.
            ch.unsafe().closeForcibly();
            return new DefaultChannelPromise(ch, loop).setFailure(t);
        }
        ChannelFuture registered = loop.register(ch);
        if (registered.isDone()) {
            if (!registered.isSuccess()) {
                closeUnregistered(ch);
                return registered;
            }
            // As Bootstrap does: a failed connect leaves the channel open on some transports.
            ChannelPromise connecting = ch.newPromise();
            if (deadline != null) {
                deadline.watch(connecting, address, timeoutMillis);
            }
            return ch.connect(address, connecting).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
        ChannelPromise connected = ch.newPromise();
        if (deadline != null) {
            deadline.watch(connected, address, timeoutMillis);
        }
        registered.addListener(r -> {
            if (r.isSuccess()) {
                ch.connect(address, connected).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            } else {
                closeUnregistered(ch);
                connected.setFailure(r.cause());
            }
        });
        return connected;
    }

    private static void closeUnregistered(Channel ch) {
        if (ch.isRegistered()) {
            ch.close();
        } else {
            ch.unsafe().closeForcibly();
        }
    }
}
