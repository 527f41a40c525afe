package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;

/**
 * Between Netty's frame-to-HTTP/1.1 codec and the {@link BackendHandler} of a stream to an HTTP/2 server:
 * removes the codec's notes from response heads, and turns the stream's resets into what the attempt reads
 * when the stream closes: the server's error code, and whether the request was processed at all.
 *
 * <p>Netty closes a stream's channel only at its next read once the stream is over, and the attempt may not be
 * reading (its client is slow): a reset closes the channel here at once, so the client hears of it promptly.
 */
final class Http2StreamEvents extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse r) {
            Http2Conversion.stripNotes(r.headers());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        BackendConnection c = ctx.pipeline().get(BackendHandler.class).conn;
        if (evt instanceof Http2ResetFrame reset) {
            if (c != null) {
                c.resetCode = reset.errorCode();
                c.refused = reset.errorCode() == Http2Error.REFUSED_STREAM.code();
            }
            ctx.close();
        } else if (evt instanceof Http2GoAwayFrame) {
            // Sent only to the streams above the GOAWAY's last-stream-id: the server never saw them.
            if (c != null) {
                c.refused = true;
            }
            ctx.close();
        }
        ReferenceCountUtil.release(evt);
    }
}
