package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps what a channel reads while it waits to be handed to a {@link SpliceRelay}. Reading is off, but the
 * epoll transport still reads once when the peer half-closes (RDHUP), so a client that sends and shuts its
 * side before its server is connected, or a server that greets and hangs up at once, leave bytes and a FIN here.
 * The relay writes them out before it splices anything else. {@link ClientHandler} keeps the client's bytes in
 * one of these before it knows which relay takes them.
 */
final class HeldBytes extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HeldBytes.class);

    private ArrayDeque<ByteBuf> bytes;
    private boolean fin;


    /** Hands the held buffers over (the caller releases them from now on); null when there are none. */
    ArrayDeque<ByteBuf> take() {
        ArrayDeque<ByteBuf> b = bytes;
        bytes = null;
        return b;
    }

    boolean fin() {
        return fin;
    }

    /** Keeps a buffer read (ours to release from now on); anything else is released. */
    void add(Object msg) {
        if (msg instanceof ByteBuf b) {
            if (bytes == null) {
                bytes = new ArrayDeque<>(2);
            }
            bytes.add(b);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    void markFin() {
        fin = true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        add(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            markFin();
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("error before splicing on {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    void release() {
        ArrayDeque<ByteBuf> b = take();
        if (b != null) {
            b.forEach(ByteBuf::release);
        }
    }
}
