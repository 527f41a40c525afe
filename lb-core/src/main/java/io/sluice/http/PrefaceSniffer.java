package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * The first bytes of a cleartext connection with {@code http.h2c}, held until they either begin with the HTTP/2
 * connection preface (prior knowledge: the connection becomes HTTP/2) or cannot (it stays HTTP/1.1). The
 * preface cannot start an HTTP/1.1 request Sluice would accept ("PRI" with version HTTP/2.0), so no HTTP/1.1
 * client is mistaken for one. Not a handler of its own: {@link ByteWatcher} asks it about a connection's
 * first reads, which spares every connection a pipeline stage and its removal.
 */
final class PrefaceSniffer {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final FrontProtocols protocols;
    private ByteBuf held;

    PrefaceSniffer(FrontProtocols protocols) {
        this.protocols = protocols;
    }

    /**
     * Takes the next bytes read; returns what is to be read as HTTP/1.1 (then the sniffer is done), or null:
     * the bytes so far are a part of the preface and are held (the HTTP/1.1 handler asks for more, as for any
     * head begun), or they are the whole preface and the connection was switched to HTTP/2.
     */
    ByteBuf sniff(ChannelHandlerContext ctx, ByteBuf b) {
        held = held == null ? b : join(ctx, held, b);
        int n = Math.min(held.readableBytes(), PREFACE.length);
        for (int i = 0; i < n; i++) {
            if (held.getByte(held.readerIndex() + i) != PREFACE[i]) {
                ByteBuf bytes = held;
                held = null;
                return bytes;
            }
        }
        if (n == PREFACE.length) {
            ByteBuf bytes = held;
            held = null;
            protocols.switchToHttp2(ctx.channel(), bytes);
        }
        return null;
    }

    private static ByteBuf join(ChannelHandlerContext ctx, ByteBuf a, ByteBuf b) {
        ByteBuf joined = ctx.alloc().buffer(a.readableBytes() + b.readableBytes()).writeBytes(a).writeBytes(b);
        a.release();
        b.release();
        return joined;
    }

    /** The connection closed or changed while bytes were held. */
    void release() {
        ReferenceCountUtil.release(held);
        held = null;
    }
}
