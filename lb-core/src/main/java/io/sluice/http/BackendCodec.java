package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.FileRegion;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.1 codec of a server connection: what Netty's {@code HttpClientCodec} does for Sluice (a HEAD
 * request's response has no body; Sluice never sends CONNECT, so its special case is not needed), with a
 * response decoder that reuses {@link HeadWords} for the status line and common header names instead of
 * making objects for them on every response, and which reads whole plain responses in one pass
 * ({@link ResponseHeadParser}) into the connection's reused {@link PlainResponse}.
 */
final class BackendCodec extends CombinedChannelDuplexHandler<BackendCodec.ResponseDecoder, BackendCodec.RequestEncoder> {
    BackendCodec(HttpDecoderConfig config) {
        ArrayDeque<HttpMethod> sent = new ArrayDeque<>(2);
        init(new ResponseDecoder(config, sent), new RequestEncoder(sent));
    }

    ResponseDecoder decoder() {
        return inboundHandler();
    }

    /**
     * Whether the decoder still holds bytes it has not read: asked when an exchange gives the connection back,
     * from inside the read that ended its response. Sluice sends one request at a time, so bytes after a
     * complete response answer nothing (a wrong Content-Length, a server talking out of turn); on a connection
     * that is reused they would be read as the next attempt's response, another client's.
     */
    static boolean holdsUnreadBytes(Channel ch) {
        BackendCodec codec = ch.pipeline().get(BackendCodec.class);
        return codec != null && codec.inboundHandler().holdsBytes();
    }

    /**
     * Notes each request's method, oldest first, for the decoder to pair with its response. A bodiless request
     * whose fields are a {@link HeadFields} table (a client's {@link PlainRequest}, an HTTP/2 stream's
     * {@link Http2Request}) goes out as one buffer of its exact size ({@link DirectHeads}); anything else, and
     * everything while Netty's encoder is inside a message, through Netty's.
     */
    static final class RequestEncoder extends HttpRequestEncoder {
        /**
         * A request with one of these has a chunked body (Netty frames it), or is an upgrade: Netty's. A
         * Content-Length body goes the direct way: its bytes as they are, as Netty's encoder writes it.
         */
        private static final HeadFields.NameSet NOT_DIRECT = new HeadFields.NameSet(
                HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE);
        private final ArrayDeque<HttpMethod> sent;
        private final boolean direct;
        private final DirectHeads.NettyPosition netty = new DirectHeads.NettyPosition();
        /**
         * A head went out the direct way and its message is not over: the rest (nearly always the empty end) is
         * written here as Netty's encoder writes a body without chunked framing, its bytes as they are, since
         * Netty's, between messages, would refuse it.
         */
        private boolean inDirectMessage;

        RequestEncoder(ArrayDeque<HttpMethod> sent) {
            this(sent, DirectHeads.enabled());
        }

        RequestEncoder(ArrayDeque<HttpMethod> sent, boolean direct) {
            this.sent = sent;
            this.direct = direct;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (inDirectMessage) {
                restOfDirect(ctx, msg, promise);
                return;
            }
            if (direct && msg instanceof HttpRequest r && !(msg instanceof HttpContent)
                    && r.headers() instanceof HeadFields f && netty.betweenMessages() && !f.hasAny(NOT_DIRECT)) {
                HeadBytes head = HeadBytes.start(0);
                if (requestLine(head, r)) {
                    f.encode(head);
                    head.room(2);
                    head.crlf();
                    sent.add(r.method());
                    ByteBuf buf = DirectHeads.oneBuffer(ctx.alloc(), head, null);
                    ReferenceCountUtil.release(msg); // as Netty's encoder does with a head (ours hold nothing)
                    inDirectMessage = true;
                    ctx.write(buf, promise);
                    return;
                }
            }
            super.write(ctx, msg, promise);
        }

        private void restOfDirect(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpContent c && !(msg instanceof HttpMessage)) {
                ByteBuf content = c.content();
                if (msg instanceof LastHttpContent) {
                    inDirectMessage = false; // trailers have no place without chunked framing: Netty drops them too
                }
                if (!content.isReadable() && promise.isVoid()) {
                    // The end of a bodiless request: no bytes, and no one waits to hear it was written, so no
                    // empty buffer through the pipeline and the outbound buffer as Netty's encoder would send.
                    c.release();
                    return;
                }
                Object bytes = content.isReadable() ? content.retain() : Unpooled.EMPTY_BUFFER;
                c.release();
                ctx.write(bytes, promise);
            } else if (msg instanceof ByteBuf || msg instanceof FileRegion) {
                ctx.write(msg, promise);
            } else {
                ReferenceCountUtil.release(msg);
                throw new IllegalStateException("unexpected message inside a request: " + msg.getClass().getSimpleName());
            }
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest r) {
                sent.add(r.method());
            }
            netty.passing(msg);
            super.encode(ctx, msg, out);
            netty.passed(msg);
        }

        /**
         * The request line in one copy (Netty's writes the method, the target and the version each on its own,
         * the target as UTF-8). Here for the targets Sluice sends, an origin-form ASCII path; anything else as
         * Netty writes it.
         */
        @Override
        protected void encodeInitialLine(ByteBuf buf, HttpRequest request) throws Exception {
            HeadBytes out = HeadBytes.start(0);
            if (requestLine(out, request)) {
                out.writeTo(buf);
            } else {
                super.encodeInitialLine(buf, request);
            }
        }

        /**
         * Spells an origin-form ASCII request line as Netty's encoder writes it; false (with part of it spelled)
         * for any other target.
         */
        private static boolean requestLine(HeadBytes out, HttpRequest request) {
            String uri = request.uri();
            if (uri.isEmpty() || uri.charAt(0) != '/') {
                return false;
            }
            AsciiString method = request.method().asciiName();
            String version = request.protocolVersion().text();
            out.room(method.length() + uri.length() + version.length() + 4);
            out.ascii(method);
            out.put((byte) ' ');
            if (!out.asciiOnly(uri)) {
                return false;
            }
            out.put((byte) ' ');
            out.ascii(version);
            out.crlf();
            return true;
        }

        /** A head read by {@link RequestHeadParser} writes its fields from the bytes it was read from. */
        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof HeadFields f) {
                f.encode(buf);
            } else {
                super.encodeHeaders(headers, buf);
            }
        }
    }

    static final class ResponseDecoder extends HttpResponseDecoder {
        private final ArrayDeque<HttpMethod> sent;
        private final ResponseHeadParser fast;
        /** Netty's decoder has taken bytes of the current message: it finishes it (the fast path waits). */
        private boolean nettyMidMessage;
        /**
         * A 101 went through (what follows is another protocol), or Netty refused a message (it skips the rest):
         * the fast path is off for the connection's life.
         */
        private boolean fastOff;
        /** The status code of the line being split, for its reason phrase. */
        private String code;
        /**
         * Bytes of the current response's body taken out of Netty's decoder ({@link #takeBody}): spliced past it,
         * or, should Netty read some of them after all, passed on as they come.
         */
        private long bodyLeft;

        boolean holdsBytes() {
            return actualReadableBytes() > 0;
        }

        /**
         * The rest of the current Content-Length body, {@code left} bytes, is no longer Netty's decoder's to count
         * ({@link SplicedBody}): it starts afresh at the next message, and bytes that reach it before then are
         * body, passed on without parsing. Between read batches only, with nothing held.
         */
        void takeBody(long left) {
            reset();
            nettyMidMessage = false;
            bodyLeft = left;
        }

        long bodyLeft() {
            return bodyLeft;
        }

        /** {@code bytes} of the taken body went past the decoder. */
        void bodyTaken(int bytes) {
            bodyLeft -= bytes;
        }

        ResponseDecoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> sent) {
            super(config);
            this.sent = sent;
            this.fast = new ResponseHeadParser(config.getMaxInitialLineLength(), config.getMaxHeaderSize());
        }

        /**
         * A whole plain response is read by {@link ResponseHeadParser} at a message's start; anything else by
         * Netty's decoder, which then owns the message to its end. A response that answers no request sent
         * (a server talking out of turn) is Netty's too.
         */
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (bodyLeft > 0) {
                int n = (int) Math.min(in.readableBytes(), bodyLeft);
                bodyLeft -= n;
                ByteBuf part = in.readRetainedSlice(n);
                out.add(bodyLeft == 0 ? new DefaultLastHttpContent(part) : new DefaultHttpContent(part));
                return;
            }
            HttpMethod answered = sent.peek();
            if (!nettyMidMessage && !fastOff && answered != null) {
                PlainResponse r = fast.parse(in, HttpMethod.HEAD.equals(answered));
                if (r != null) {
                    sent.poll();
                    out.add(r);
                    return;
                }
            }
            int before = out.size();
            int start = in.readerIndex();
            super.decode(ctx, in, out);
            if (in.readerIndex() > start) {
                nettyMidMessage = true;
            }
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpResponse r && r.status().code() == 101
                        || o instanceof HttpObject h && h.decoderResult().isFailure()) {
                    fastOff = true;
                }
                if (o instanceof LastHttpContent) {
                    nettyMidMessage = false;
                }
            }
        }

        /** A connection that ends inside a taken body broke the response, as Netty says of one it counts itself. */
        @Override
        protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
            if (bodyLeft > 0 && in.isReadable()) {
                decode(ctx, in, out);
            }
            if (bodyLeft > 0) {
                bodyLeft = 0;
                LastHttpContent broke = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
                broke.setDecoderResult(DecoderResult.failure(
                        new PrematureChannelClosureException("the connection closed inside the response body")));
                out.add(broke);
                return;
            }
            super.decodeLast(ctx, in, out);
        }

        /** As HttpClientCodec: interim responses answer no request yet; a final one answers the oldest. */
        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int status = ((HttpResponse) msg).status().code();
            if (status >= 100 && status < 200) {
                return super.isContentAlwaysEmpty(msg);
            }
            HttpMethod method = sent.poll();
            if (HttpMethod.HEAD.equals(method)) {
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected String splitFirstWordInitialLine(byte[] sb, int start, int length) {
            String v = HeadWords.version(sb, start, length);
            return v != null ? v : super.splitFirstWordInitialLine(sb, start, length);
        }

        @Override
        protected String splitSecondWordInitialLine(byte[] sb, int start, int length) {
            code = HeadWords.code(sb, start, length);
            return code != null ? code : super.splitSecondWordInitialLine(sb, start, length);
        }

        @Override
        protected String splitThirdWordInitialLine(byte[] sb, int start, int length) {
            String r = HeadWords.reason(code, sb, start, length);
            code = null;
            return r != null ? r : super.splitThirdWordInitialLine(sb, start, length);
        }

        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString n = HeadWords.name(sb, start, length);
            return n != null ? n : super.splitHeaderName(sb, start, length);
        }
    }
}
