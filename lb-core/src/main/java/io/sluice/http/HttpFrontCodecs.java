package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.List;

/** The client-side HTTP/1.1 codec pieces, with the strictness a proxy needs. */
final class HttpFrontCodecs {
    /** Content pieces are slices of what was read, at most this big; bigger means fewer objects per MiB. */
    static final int MAX_CHUNK = 64 * 1024;

    private HttpFrontCodecs() {
    }

    /**
     * Netty 4.2's strict options: no duplicate Content-Length, CRLF required, RFC 9112 Transfer-Encoding rules
     * (Content-Length with Transfer-Encoding, a non-final chunked, or Transfer-Encoding on HTTP/1.0 fail).
     */
    static HttpDecoderConfig strict(HttpDecoderConfig c) {
        return c.setValidateHeaders(true).setAllowDuplicateContentLengths(false).setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true).setChunkedSupported(true).setAllowPartialChunks(true)
                .setMaxChunkSize(MAX_CHUNK)
                // After setValidateHeaders, which replaces both factories: the same validation, a lighter table.
                .setHeadersFactory(HeadFields.factory()).setTrailersFactory(HeadFields.factory());
    }

    /**
     * Netty's request decoder, plus the one ambiguity it accepts: obs-fold (a header line starting with a space
     * or tab), which it silently joins to the previous line. Another parser might read that line as a header
     * of its own, so a request with one is refused. The scan looks only at header sections: from the start of
     * a message to its first empty line.
     *
     * <p>Heads the {@link RequestHeadParser fast parser} takes never reach Netty's decoder, so it is made at the
     * first head (or body) the fast parser leaves to it: a connection that sends only plain heads never pays for
     * its buffers and parsers. Until then it would have been in its initial state, which is what a new one is.
     */
    static final class RequestDecoder extends ByteToMessageDecoder {
        private boolean inHead = true;
        /** A non-empty line of the current head was seen (so an empty line now ends the head). */
        private boolean headStarted;
        /** Whether the byte just before the reader index (already consumed) was a LF. */
        private boolean afterLf;
        private boolean failed;
        /** Netty's decoder has taken bytes of the current message: it finishes it (the fast path waits). */
        private boolean nettyMidMessage;
        private final ResponseEncoder encoder;
        private final RequestHeadParser fast;
        /** The listener's template when the connection was accepted (a reload replaces it, never changes it). */
        private final HttpDecoderConfig config;
        /** Netty's strict decoder, null until a message needs it. */
        private NettyDecoder netty;

        /** {@code encoder} is the same connection's: it learns each request's method as it is decoded. */
        RequestDecoder(HttpDecoderConfig config, ResponseEncoder encoder) {
            this.config = config;
            this.encoder = encoder;
            this.fast = new RequestHeadParser(config.getMaxInitialLineLength(), config.getMaxHeaderSize());
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (failed) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (inHead && !nettyMidMessage) {
                HttpRequest r = fast.parse(in);
                if (r != null) {
                    // A whole bodiless head: its end comes with it, as from Netty's decoder.
                    encoder.requested(r.method());
                    out.add(r);
                    out.add(LastHttpContent.EMPTY_LAST_CONTENT);
                    headStarted = false;
                    afterLf = true;
                    return;
                }
            }
            if (inHead && hasObsFold(in)) {
                failed = true;
                in.skipBytes(in.readableBytes());
                HttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request");
                bad.setDecoderResult(DecoderResult.failure(new ObsFoldException()));
                encoder.requested(bad.method());
                out.add(bad);
                return;
            }
            if (netty == null) {
                netty = new NettyDecoder(config);
            }
            int before = out.size();
            int start = in.readerIndex();
            netty.decode(ctx, in, out);
            if (in.readerIndex() > start) {
                nettyMidMessage = true;
            }
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest r) {
                    inHead = false;
                    encoder.requested(r.method());
                }
                if (o instanceof LastHttpContent) {
                    inHead = true;
                    headStarted = false;
                    nettyMidMessage = false;
                }
            }
            if (in.readerIndex() > start) {
                afterLf = in.getByte(in.readerIndex() - 1) == '\n';
            }
        }

        /**
         * The input ended: what is left is decoded as ever (above), then Netty's decoder, when it had a message
         * begun, reports it cut short, as it does at its own end of input.
         */
        @Override
        protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            super.decodeLast(ctx, in, out);
            if (netty != null) {
                netty.decodeLast(ctx, Unpooled.EMPTY_BUFFER, out);
            }
        }

        /** Netty's decoder resets itself on this event (an aggregator refused a body): it gets it, and fires it on. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (netty != null && evt instanceof HttpExpectationFailedEvent) {
                netty.userEventTriggered(ctx, evt);
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
            if (netty != null) {
                netty.release(ctx);
            }
        }

        private boolean hasObsFold(ByteBuf in) {
            boolean lf = afterLf;
            for (int i = in.readerIndex(), end = in.writerIndex(); i < end; i++) {
                byte b = in.getByte(i);
                if (lf && headStarted) {
                    if (b == ' ' || b == '\t') {
                        return true;
                    }
                    if (b == '\r') {
                        return false;
                    }
                }
                if (b != '\r' && b != '\n') {
                    headStarted = true;
                }
                lf = b == '\n';
            }
            return false;
        }
    }

    /**
     * Netty's decoder as {@link RequestDecoder}'s part, never a pipeline stage of its own: it decodes from the
     * stage's buffer and context (its decode uses neither the context nor a buffer of its own).
     */
    private static final class NettyDecoder extends HttpRequestDecoder {
        NettyDecoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            super.decode(ctx, in, out);
        }

        @Override
        protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            super.decodeLast(ctx, in, out);
        }

        /** Its scratch buffer, which it gives back when removed from a pipeline it is never in. */
        void release(ChannelHandlerContext ctx) throws Exception {
            handlerRemoved0(ctx);
        }

        /** Common names come from {@link HeadWords} instead of a new object per header line. */
        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString n = HeadWords.name(sb, start, length);
            return n != null ? n : super.splitHeaderName(sb, start, length);
        }
    }

    static final class ObsFoldException extends IllegalArgumentException {
        ObsFoldException() {
            super("obsolete line folding in a header");
        }
    }

    /**
     * Netty's response encoder, which must know when a response answers a HEAD request: such a response carries
     * framing headers but no body, and no chunked terminator may be written. It keeps the methods of the
     * requests its decoder saw, oldest first, and takes one off for each final response (or 101): responses
     * leave in request order, one final response per request, while interim (1xx) ones answer nothing yet.
     *
     * <p>A server's {@link PlainResponse} (a final status with a body, one Content-Length, the whole body of at
     * most {@link #DIRECT_BODY_MAX}) that answers no HEAD goes out as one buffer of its exact size, head and body
     * ({@link DirectHeads}); anything else, and everything while Netty's encoder is inside a message, through
     * Netty's.
     */
    static final class ResponseEncoder extends HttpResponseEncoder {
        /**
         * The largest body copied in behind the head. Netty's encoder writes a larger one as a slice of its own,
         * without a copy: from about 8 KiB on the copy costs more than the write it saves (a 64 KiB body took
         * 1.6 µs copied against 0.4 µs by Netty's way).
         */
        static final int DIRECT_BODY_MAX = 4 * 1024;
        private final ArrayDeque<HttpMethod> unanswered = new ArrayDeque<>(4);
        private final boolean direct;
        private final DirectHeads.NettyPosition netty = new DirectHeads.NettyPosition();

        ResponseEncoder() {
            this(DirectHeads.enabled());
        }

        ResponseEncoder(boolean direct) {
            this.direct = direct;
        }

        void requested(HttpMethod method) {
            unanswered.add(method);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (direct && msg instanceof PlainResponse r && netty.betweenMessages() && plain(r)) {
                HeadBytes head = head(r);
                if (head != null) {
                    unanswered.poll(); // as isContentAlwaysEmpty does for a final response
                    ByteBuf buf;
                    try {
                        buf = DirectHeads.oneBuffer(ctx.alloc(), head, r.content());
                    } finally {
                        r.release();
                    }
                    ctx.write(buf, promise);
                    return;
                }
            }
            super.write(ctx, msg, promise);
        }

        /**
         * What Netty's encoder writes as it is, no field removed or added: a final status whose body is not
         * always empty (not 204, 205 or 304, not the answer to a HEAD), no Transfer-Encoding, a body that fits.
         */
        private boolean plain(PlainResponse r) {
            int code = r.status().code();
            return code >= 200 && code != 204 && code != 205 && code != 304
                    && !HttpMethod.HEAD.equals(unanswered.peek())
                    && r.content().readableBytes() <= DIRECT_BODY_MAX
                    && !r.fields().contains(HttpHeaderNames.TRANSFER_ENCODING);
        }

        /** The status line and fields as Netty's encoder writes them; null for a reason phrase not all ASCII. */
        private static HeadBytes head(PlainResponse r) {
            String version = r.protocolVersion().text();
            HttpResponseStatus status = r.status();
            AsciiString code = status.codeAsText();
            String reason = status.reasonPhrase();
            HeadBytes out = HeadBytes.start(version.length() + code.length() + reason.length() + 4);
            out.ascii(version);
            out.put((byte) ' ');
            out.ascii(code);
            out.put((byte) ' ');
            if (!out.asciiOnly(reason)) {
                return null;
            }
            out.crlf();
            r.fields().encode(out);
            out.room(2);
            out.crlf();
            return out;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            netty.passing(msg);
            super.encode(ctx, msg, out);
            netty.passed(msg);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            int code = msg.status().code();
            if (code >= 200 || code == 101) {
                HttpMethod answered = unanswered.poll();
                if (code >= 200 && HttpMethod.HEAD.equals(answered)) {
                    return true;
                }
            }
            return super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof HeadFields f) {
                f.encode(buf);
            } else {
                super.encodeHeaders(headers, buf);
            }
        }
    }
}
