package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;

/**
 * A client connection's request decoder, with what looks at the raw bytes before they are decoded: the header
 * timeout starts at a request's first byte ({@link HttpFrontHandler#onBytes}), and on a cleartext listener
 * with {@code http.h2c} a {@link PrefaceSniffer} sees the first bytes until they show whether the client
 * speaks HTTP/2 by prior knowledge. One pipeline stage for what were three (sniffer, byte watcher, decoder),
 * which always came together: a context each per connection, and a hop each per read.
 */
final class FrontDecoder extends HttpFrontCodecs.RequestDecoder {
    private final HttpFrontHandler front;
    /** Until the first bytes have been told apart from the HTTP/2 preface; null without h2c. */
    private PrefaceSniffer sniffer;

    /** {@code encoder} and {@code front} are the same connection's; {@code sniffer} null without h2c. */
    FrontDecoder(HttpDecoderConfig config, HttpFrontCodecs.ResponseEncoder encoder, HttpFrontHandler front,
                 PrefaceSniffer sniffer) {
        super(config, encoder);
        this.front = front;
        this.sniffer = sniffer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
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
        super.channelRead(ctx, msg);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        if (sniffer != null) {
            sniffer.release();
        }
        super.handlerRemoved0(ctx);
    }
}
