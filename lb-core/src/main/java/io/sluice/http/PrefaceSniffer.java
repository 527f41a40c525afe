package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * First on a cleartext connection with {@code http.h2c}: holds the first bytes until they either begin with
 * the HTTP/2 connection preface (prior knowledge: the connection becomes HTTP/2) or cannot (it stays
 * HTTP/1.1, and this handler leaves). The preface cannot start an HTTP/1.1 request Sluice would accept
 * ("PRI" with version HTTP/2.0), so no HTTP/1.1 client is mistaken for one.
 */
final class PrefaceSniffer extends ChannelInboundHandlerAdapter {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final FrontProtocols protocols;
    private ByteBuf held;

    PrefaceSniffer(FrontProtocols protocols) {
        this.protocols = protocols;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b)) {
            ctx.fireChannelRead(msg);
            return;
        }
        held = held == null ? b : join(ctx, held, b);
        int n = Math.min(held.readableBytes(), PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (held.getByte(held.readerIndex() + i) != PREFACE[i]) {
                ByteBuf bytes = held;
                held = null;
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(bytes);
                return;
            }
        }
        if (n == PREFACE.length) {
            ByteBuf bytes = held;
            held = null;
            ctx.pipeline().remove(this);
            protocols.switchToHttp2(ctx.channel(), bytes);
        }
        // Else a part of the preface: the HTTP/1.1 handler behind asks for more, as for any head begun.
    }

    private static ByteBuf join(ChannelHandlerContext ctx, ByteBuf a, ByteBuf b) {
        ByteBuf joined = ctx.alloc().buffer(a.readableBytes() + b.readableBytes()).writeBytes(a).writeBytes(b);
        a.release();
        b.release();
        return joined;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ReferenceCountUtil.release(held);
        held = null;
    }
}
