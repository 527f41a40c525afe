package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves bytes from the channel it sits on to its peer. The buffer read is the buffer written: no copy. Reads
 * are driven by hand (autoRead is off): the next read happens only once the peer can take more, so a slow
 * reader on one side stops reading on the other side instead of queueing memory.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);

    private final Channel peer;
    private final LongAdder bytes;
    private final HalfClose halfClose;

    RelayHandler(Channel peer, LongAdder bytes, HalfClose halfClose) {
        this.peer = peer;
        this.bytes = bytes;
        this.halfClose = halfClose;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            bytes.add(buf.readableBytes());
            // A failed write on the peer surfaces in the peer's exceptionCaught, which closes both sides.
            peer.write(buf, peer.voidPromise());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // One flush per read batch, not per buffer.
        peer.flush();
        if (peer.isWritable()) {
            ctx.read();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Our own outbound buffer drained below the low water mark: the peer may produce again.
        if (ctx.channel().isWritable()) {
            peer.read();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The sender half-closed: pass the FIN on once everything before it is written.
            boolean bothDone = halfClose.inputDone(ctx.channel());
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
                if (bothDone) {
                    closeBoth(ctx.channel());
                } else if (peer.isActive() && peer instanceof DuplexChannel duplex) {
                    duplex.shutdownOutput();
                }
            });
        } else if (evt instanceof IdleStateEvent) {
            log.debug("closing idle connection {}", ctx.channel());
            closeBoth(ctx.channel());
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("relay error on {}: {}", ctx.channel(), cause.toString());
        closeBoth(ctx.channel());
    }

    private void closeBoth(Channel self) {
        self.close();
        peer.close();
    }

    /** Which directions have finished; both channels share one loop, so plain fields suffice. */
    static final class HalfClose {
        private final Channel client;
        private boolean clientDone;
        private boolean serverDone;

        HalfClose(Channel client) {
            this.client = client;
        }

        /** Marks the input of {@code ch} finished; true when both directions are now finished. */
        boolean inputDone(Channel ch) {
            if (ch == client) {
                clientDone = true;
            } else {
                serverDone = true;
            }
            return clientDone && serverDone;
        }
    }
}
