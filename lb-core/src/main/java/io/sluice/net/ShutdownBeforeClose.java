package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.nio.channels.NotYetConnectedException;

/**
 * First in a pipeline (nearest the socket): shuts the socket down in both directions just before it is closed.
 * With io_uring, closing the descriptor only drops one reference to the socket; a poll or receive still in the
 * ring holds another, and until it ends the kernel sends no FIN. Netty 4.2.18 cancels those requests on close,
 * but in loaded runs one survived (seen after an HTTP/2 GOAWAY for rapid reset: the channel was closed, the
 * client still saw an open connection 20 s later). shutdown(2) acts on the socket itself, so the client sees
 * the end at once and whatever is in flight completes. Data already handed to the kernel (the GOAWAY) is sent
 * before the FIN. Stateless: one shared instance.
 */
@ChannelHandler.Sharable
public final class ShutdownBeforeClose extends ChannelOutboundHandlerAdapter {
    public static final ShutdownBeforeClose INSTANCE = new ShutdownBeforeClose();

    private ShutdownBeforeClose() {
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        shutdown(ctx.channel());
        ctx.close(promise);
    }

    /** The same for a close that does not go through the pipeline ({@code channel.unsafe().close(...)}). */
    public static void shutdown(Channel ch) {
        if (ch instanceof UnixChannel u && u.fd() instanceof Socket s && s.isOpen()) {
            try {
                s.shutdown();
            } catch (IOException | NotYetConnectedException alreadyGone) {
                // Not connected (any more; ENOTCONN is Netty's NotYetConnectedException): nothing to end, and the
                // close that follows must still happen.
            }
        }
    }
}
