package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The fast way to read a request head: a whole bodiless head already in the buffer, in the plainest form of
 * the grammar, is read in one pass into the connection's {@link PlainRequest}: a {@link HeadFields} table over
 * a copy of its bytes, reused once the exchange that had it is over. Everything else
 * (a head split over reads, a body, Content-Length or Transfer-Encoding, obs-fold, whitespace or bytes outside
 * visible ASCII where they are not plain, an uncommon method or version, anything near a size limit) is left to
 * Netty's strict decoder, untouched. What this accepts is a strict subset of what that decoder accepts, read to
 * the same request (values trimmed the same way), so every refusal stays Netty's.
 *
 * <p>A parser {@link #withBodies} also takes a head whose body has a length: exactly one Content-Length of plain
 * digits (at most 18) and no Transfer-Encoding, the one framing no reading can take two ways. Its reader then
 * reads the body ({@link UringHttpConnection}); a repeated, signed, spaced or listed length, or any
 * Transfer-Encoding, stays the strict decoder's to accept or refuse.
 */
final class RequestHeadParser {
    private static final HttpMethod[] METHODS = {
        HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS,
        HttpMethod.PATCH, HttpMethod.TRACE,
    };
    private final int maxLine;
    private final int maxHeaderSize;
    private final boolean bodies;
    /** The connection's request head, refilled while no exchange holds it. */
    private PlainRequest request;

    RequestHeadParser(int maxLine, int maxHeaderSize) {
        this(maxLine, maxHeaderSize, false);
    }

    private RequestHeadParser(int maxLine, int maxHeaderSize, boolean bodies) {
        this.maxLine = maxLine;
        this.maxHeaderSize = maxHeaderSize;
        this.bodies = bodies;
    }

    /** A parser that takes heads with a plain Content-Length too, for a reader that reads their bodies. */
    static RequestHeadParser withBodies(int maxLine, int maxHeaderSize) {
        return new RequestHeadParser(maxLine, maxHeaderSize, true);
    }

    /** The body length of a head this parser returned: its Content-Length, 0 when it has none. */
    static long bodyLength(HttpRequest head) {
        return Math.max(0, ((PlainRequest) head).fields().number(HttpHeaderNames.CONTENT_LENGTH));
    }

    /** The request whose head starts at the reader index (consumed), or null (nothing consumed). */
    HttpRequest parse(ByteBuf in) {
        int start = in.readerIndex();
        int available = in.writerIndex() - start;
        PlainRequest r = request;
        if (r != null && !r.lent()) {
            // Read from a copy of as many bytes as the connection's heads took so far: no pass over the buffer to
            // find the head's end first. A longer head (or one not plain) is looked for in the buffer below.
            byte[] head = r.refill(0);
            int n = Math.min(available, head.length);
            in.getBytes(start, head, 0, n);
            int length = read(head, n, r, maxLine, maxHeaderSize, bodies);
            if (length >= 0) {
                in.readerIndex(start + length);
                return r;
            }
            if (n == available) {
                return null;
            }
        }
        int end = HeadLines.headEnd(in, start, in.writerIndex(), maxLine, maxHeaderSize);
        if (end < 0) {
            return null;
        }
        int length = end - start;
        if (r == null || r.lent()) {
            // Sized for this head: a connection that sends one request (and closes) pays no more than that.
            r = PlainRequest.create(length);
            request = r;
        }
        byte[] head = r.refill(length);
        in.getBytes(start, head, 0, length);
        if (read(head, length, r, maxLine, maxHeaderSize, bodies) < 0) {
            return null;
        }
        in.readerIndex(end);
        return r;
    }

    /**
     * Reads the head at the start of {@code b[0, n)} into {@code r} and lends it; returns the head's length, or -1
     * when it is not plain or does not end before {@code n}.
     */
    private static int read(byte[] b, int n, PlainRequest r, int maxLine, int maxHeaderSize, boolean bodies) {
        int sp1 = HeadLines.indexOf(b, 0, n, ' ');
        HttpMethod method = sp1 < 0 ? null : method(b, sp1);
        if (method == null) {
            return -1;
        }
        int sp2 = sp1 + 1;
        while (sp2 < n && b[sp2] > 0x20 && b[sp2] < 0x7f) {
            sp2++;
        }
        if (sp2 == sp1 + 1 || sp2 >= n || b[sp2] != ' ') {
            return -1;
        }
        int cr = sp2 + 9;
        if (cr + 1 >= n || b[cr] != '\r' || b[cr + 1] != '\n') {
            return -1;
        }
        HttpVersion version = HeadLines.version(b, sp2 + 1, n);
        if (version == null) {
            return -1;
        }
        HeadFields fields = r.fields();
        // Transfer-Encoding, and Content-Length unless plain and read here, are Netty's decoder's (their rules and
        // bodies).
        int length = HeadLines.fields(b, cr + 2, n, fields, true);
        if (length < 0 || !HeadLines.withinLimits(cr + 1, length, maxLine, maxHeaderSize)
                || fields.contains(HttpHeaderNames.TRANSFER_ENCODING)
                || fields.contains(HttpHeaderNames.CONTENT_LENGTH)
                        && (!bodies || fields.number(HttpHeaderNames.CONTENT_LENGTH) < 0)) {
            return -1;
        }
        r.lend(version, method, new String(b, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1));
        return length;
    }

    private static HttpMethod method(byte[] b, int length) {
        for (HttpMethod m : METHODS) {
            AsciiString n = m.asciiName();
            if (n.length() == length && same(b, 0, n)) {
                return m;
            }
        }
        return null;
    }

    private static boolean same(byte[] b, int start, AsciiString s) {
        for (int i = 0; i < s.length(); i++) {
            if (b[start + i] != s.byteAt(i)) {
                return false;
            }
        }
        return true;
    }
}
