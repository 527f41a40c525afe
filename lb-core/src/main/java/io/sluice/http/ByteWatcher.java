package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Sees raw bytes before the decoder, so that the header timeout can start at a request's first byte. On a
 * cleartext listener with {@code http.h2c} it also hands a connection's first bytes to a {@link PrefaceSniffer}
 * until they show whether the client speaks HTTP/2 by prior knowledge: one stage for both, as both look at
 * the same bytes before decoding.
 */
final class ByteWatcher extends ChannelInboundHandlerAdapter {
    private final HttpFrontHandler front;
    /** Until the first bytes have been told apart from the HTTP/2 preface; null without h2c. */
    private PrefaceSniffer sniffer;

    ByteWatcher(HttpFrontHandler front) {
        this(front, null);
    }

    ByteWatcher(HttpFrontHandler front, PrefaceSniffer sniffer) {
        this.front = front;
        this.sniffer = sniffer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            if (sniffer != null) {
                b = sniffer.sniff(ctx, b);
                if (b == null) {
                    return; // held as a part of the preface, or the connection is HTTP/2 now
                }
                sniffer = null;
                msg = b;
            }
            if (b.isReadable()) {
                front.onBytes();
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (sniffer != null) {
            sniffer.release();
        }
    }
}
