package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Native;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/**
 * Keeps every epoll socket of the proxy in its loop's epoll set for as long as it is open, working around Netty
 * 4.2.18: when a channel's interest set becomes empty (input half-closed, reads paused, nothing left to write) its
 * registration removes the socket from epoll ({@code EPOLL_CTL_DEL}) but still takes itself as added, so the next
 * interest (writability, for the rest of a large answer to a client that half-closed) is an {@code EPOLL_CTL_MOD}
 * that fails with ENOENT, and the connection is cut. With {@code EPOLLERR} in the set it never becomes empty.
 * epoll reports errors whether asked or not, so the events delivered are the same.
 *
 * <p>Set before the channel registers, when it costs nothing (Netty only records the flag and passes it with the
 * registration's {@code EPOLL_CTL_ADD}): on accepted connections by {@link #CHILDREN} on the listening channel,
 * which sees each one before the acceptor registers it; on connections to servers by the dialer, right after it
 * makes the channel. Netty's {@code setFlag} is protected, hence the method handle.
 */
public final class EpollInterest {
    private static final MethodHandle SET_FLAG = setFlag();

    /** On a listening epoll channel: puts {@code EPOLLERR} in each accepted connection's interest set. */
    public static final ChannelHandler CHILDREN = new Children();

    private EpollInterest() {
    }

    private static MethodHandle setFlag() {
        try {
            Class<?> epollChannel = Class.forName("io.netty.channel.epoll.AbstractEpollChannel");
            Method m = epollChannel.getDeclaredMethod("setFlag", int.class);
            m.setAccessible(true);
            return MethodHandles.lookup().unreflect(m)
                    .asType(MethodType.methodType(void.class, Channel.class, int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError("epoll's channel interest cannot be set: " + e);
        }
    }

    /** Adds {@code EPOLLERR} to the interest set of {@code ch}, an epoll socket channel. */
    public static void keep(Channel ch) {
        try {
            SET_FLAG.invokeExact(ch, Native.EPOLLERR);
        } catch (Throwable e) {
            // setFlag throws only when epoll_ctl fails on a registered channel: that channel is broken anyway.
            ch.close();
        }
    }

    @ChannelHandler.Sharable
    private static final class Children extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Channel child) {
                keep(child);
            }
            ctx.fireChannelRead(msg);
        }
    }
}
