package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;

/**
 * The bytes of an HTTP/1.1 response, part by part, for a client connection without a pipeline
 * ({@link UringHttpConnection}): what Netty's {@code HttpResponseEncoder} writes for the same parts. Such a
 * connection carries final responses only (a request that could draw an interim or 101 response is handed to the
 * channel path first), one per request, in order.
 *
 * <p>A head goes into a direct buffer of its exact size, with a body of up to {@link #COPY_MAX} bytes copied in
 * behind it; a larger body part is sent from the buffer it came in (the server connection's read), framed as
 * chunks when the response is chunked.
 */
final class ResponseBytes {
    /** Above this, a body part is sent from its own buffer rather than copied behind what precedes it. */
    static final int COPY_MAX = 4 * 1024;

    private enum Body {
        /** Between responses. */
        NONE,
        /** Content-Length or close-delimited: the body's bytes as they are. */
        PLAIN,
        CHUNKED,
        /** A HEAD's answer, 1xx, 204, 205, 304: whatever content comes is dropped. */
        EMPTY
    }

    private Body body = Body.NONE;

    /**
     * Appends the bytes of {@code part} to {@code out}, and releases it.
     *
     * @param answersHead the response answers a HEAD request: no body, whatever its headers say
     */
    void encode(HttpObject part, boolean answersHead, ByteBufAllocator alloc, ArrayDeque<ByteBuf> out) {
        try {
            HeadBytes head = null;
            if (part instanceof HttpResponse r) {
                head = head(r, answersHead);
            }
            if (part instanceof HttpContent c) {
                content(c, head, alloc, out);
            } else if (head != null) {
                out.add(head.withBody(alloc, null));
            }
        } finally {
            ReferenceCountUtil.release(part);
        }
    }

    /** Whether the current response's body goes out as it came (Content-Length or close-delimited). */
    boolean plainBody() {
        return body == Body.PLAIN;
    }

    /** Whether a response has begun and not ended. */
    boolean inResponse() {
        return body != Body.NONE;
    }

    private HeadBytes head(HttpResponse r, boolean answersHead) {
        HttpResponseStatus status = r.status();
        int code = status.code();
        boolean alwaysEmpty = answersHead || code < 200 || code == 204 || code == 205 || code == 304;
        if (code < 200 || code == 204) {
            // RFC 9110 8.6 and 6.1: such responses carry neither (Netty's encoder strips them the same way).
            r.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
            r.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
        } else if (code == 205) {
            r.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        }
        if (alwaysEmpty) {
            body = Body.EMPTY;
        } else if (HttpUtil.isTransferEncodingChunked(r)) {
            body = Body.CHUNKED;
        } else {
            body = Body.PLAIN;
        }
        String version = r.protocolVersion().text();
        String reason = status.reasonPhrase();
        HeadBytes out = HeadBytes.start(version.length() + reason.length() + 8);
        out.ascii(version);
        out.put((byte) ' ');
        out.ascii(status.codeAsText());
        out.put((byte) ' ');
        out.ascii(reason);
        out.crlf();
        fields(r.headers(), out);
        out.room(2);
        out.crlf();
        return out;
    }

    private static void fields(HttpHeaders headers, HeadBytes out) {
        if (headers instanceof HeadFields f) {
            f.encode(out);
            return;
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.room(e.getKey().length() + e.getValue().length() + 4);
            out.ascii(e.getKey());
            out.put((byte) ':');
            out.put((byte) ' ');
            out.ascii(e.getValue());
            out.crlf();
        }
    }

    /** {@code head}: the response's head when this part is a whole response, else null. */
    private void content(HttpContent c, HeadBytes head, ByteBufAllocator alloc, ArrayDeque<ByteBuf> out) {
        boolean last = c instanceof LastHttpContent;
        ByteBuf data = c.content();
        int n = data.readableBytes();
        Body mode = body;
        if (mode == Body.NONE || mode == Body.EMPTY) {
            n = 0; // nothing may follow a bodiless head (Netty's encoder drops it too)
        }
        if (mode == Body.CHUNKED) {
            chunked(data, n, last ? ((LastHttpContent) c).trailingHeaders() : null, head, alloc, out);
        } else if (n == 0) {
            if (head != null) {
                out.add(head.withBody(alloc, null));
            }
        } else if (n <= COPY_MAX || !data.hasMemoryAddress()) {
            if (head != null) {
                out.add(head.withBody(alloc, data));
            } else {
                ByteBuf copy = alloc.directBuffer(n, n);
                copy.writeBytes(data, data.readerIndex(), n);
                out.add(copy);
            }
        } else {
            if (head != null) {
                out.add(head.withBody(alloc, null));
            }
            out.add(data.retainedSlice());
        }
        if (last) {
            body = Body.NONE;
        }
    }

    private static void chunked(ByteBuf data, int n, HttpHeaders trailers, HeadBytes head, ByteBufAllocator alloc,
                                ArrayDeque<ByteBuf> out) {
        HeadBytes frame = head != null ? head : HeadBytes.start(16);
        boolean separate = n > COPY_MAX && data.hasMemoryAddress();
        if (n > 0) {
            String size = Integer.toHexString(n);
            frame.room(size.length() + 2);
            frame.ascii(size);
            frame.crlf();
            if (separate) {
                out.add(frame.withBody(alloc, null));
                out.add(data.retainedSlice());
                frame = HeadBytes.start(16);
            } else {
                frame.room(n);
                frame.raw(data, data.readerIndex(), n);
            }
            frame.room(2);
            frame.crlf();
        }
        if (trailers != null) {
            frame.room(3);
            frame.put((byte) '0');
            frame.crlf();
            fields(trailers, frame);
            frame.room(2);
            frame.crlf();
        }
        if (frame.length() > 0) {
            out.add(frame.withBody(alloc, null));
        }
    }
}
