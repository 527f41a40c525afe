package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/** Sees raw bytes before the decoder, so that the header timeout can start at a request's first byte. */
final class ByteWatcher extends ChannelInboundHandlerAdapter {
    private final HttpFrontHandler front;

    ByteWatcher(HttpFrontHandler front) {
        this.front = front;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b && b.isReadable()) {
            front.onBytes();
        }
        ctx.fireChannelRead(msg);
    }
}
