package io.sluice.l4;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.SluiceSockets;
import io.sluice.net.Transport;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Makes a Netty channel of a socket that {@link UringListenSocket} accepted, for a connection the raw relay does
 * not carry (TLS offload, SNI routing, a PROXY header either way, a cluster that speaks TLS): the same options
 * and child handler Netty's server channel would give it, registered on the loop that accepted it.
 */
public final class UringAdoption {
    private final ChannelHandler childHandler;
    private final Map<ChannelOption<?>, Object> childOptions;

    /** What {@code bootstrap} would give the connections it accepts. */
    public UringAdoption(ServerBootstrap bootstrap) {
        this.childHandler = bootstrap.config().childHandler();
        this.childOptions = bootstrap.config().childOptions();
    }

    /**
     * Whether TCP listeners accept and relay on raw io_uring operations: the transport is io_uring with multishot
     * ACCEPT, buffers direct.
     */
    public static boolean usable(Transport transport, ByteBufAllocator allocator) {
        // Multishot ACCEPT (Linux 5.19) comes with everything else the raw relay asks of the kernel (cancel by
        // descriptor); where Netty finds it missing, or is told not to use it, the channels carry every connection.
        if (!transport.name().equals("io_uring") || !IoUring.isAcceptMultishotEnabled()
                || SluiceSockets.unavailability() != null) {
            return false;
        }
        ByteBuf probe = allocator.directBuffer(1);
        try {
            return probe.hasMemoryAddress();
        } finally {
            probe.release();
        }
    }

    @SuppressWarnings("deprecation")
    public void adopt(int fd, IoEventLoop loop) {
        InetSocketAddress remote;
        try {
            remote = new Socket(fd).remoteAddress();
        } catch (RuntimeException e) {
            UringConnection.closeFd(fd); // reset before we got to it
            return;
        }
        adopt(fd, remote, loop, null, null, null);
    }

    /**
     * A channel for {@code fd}, whose peer is {@code remote}, with the child handler; {@code before} runs on it
     * before it registers (null: nothing), {@code after} once it is registered and its handlers are in (null:
     * nothing). On {@code loop}. If the channel cannot be made or registered, {@code fd} is closed and
     * {@code failed} runs instead of {@code after} (null: nothing).
     */
    @SuppressWarnings("unchecked")
    public void adopt(int fd, InetSocketAddress remote, IoEventLoop loop, Consumer<Channel> before,
                      Consumer<Channel> after, Runnable failed) {
        Channel ch;
        try {
            ch = SluiceSockets.adopt(fd, remote);
        } catch (RuntimeException | Error e) {
            UringConnection.closeFd(fd);
            if (failed != null) {
                failed.run();
            }
            throw e;
        }
        try {
            for (Map.Entry<ChannelOption<?>, Object> o : childOptions.entrySet()) {
                ch.config().setOption((ChannelOption<Object>) o.getKey(), o.getValue());
            }
            ch.pipeline().addLast(childHandler);
            if (before != null) {
                before.accept(ch);
            }
            loop.register(ch).addListener(f -> {
                if (!f.isSuccess()) {
                    ch.unsafe().closeForcibly();
                    if (failed != null) {
                        failed.run();
                    }
                } else if (after != null) {
                    after.accept(ch);
                }
            });
        } catch (RuntimeException | Error e) {
            ch.unsafe().closeForcibly();
            if (failed != null) {
                failed.run();
            }
            throw e;
        }
    }
}
