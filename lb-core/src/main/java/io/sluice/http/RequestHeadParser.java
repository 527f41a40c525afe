package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * The fast way to read a request head: a whole bodiless head already in the buffer, in the plainest form of
 * the grammar, is read in one pass into a {@link HeadFields} table over one copy of its bytes. Everything else
 * (a head split over reads, a body, Content-Length or Transfer-Encoding, obs-fold, whitespace or bytes outside
 * visible ASCII where they are not plain, an uncommon method or version, anything near a size limit) is left to
 * Netty's strict decoder, untouched. What this accepts is a strict subset of what that decoder accepts, read to
 * the same request (values trimmed the same way), so every refusal stays Netty's.
 */
final class RequestHeadParser {
    private static final HttpMethod[] METHODS = {
        HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS,
        HttpMethod.PATCH, HttpMethod.TRACE,
    };
    private final int maxLine;
    private final int maxHeaderSize;

    RequestHeadParser(int maxLine, int maxHeaderSize) {
        this.maxLine = maxLine;
        this.maxHeaderSize = maxHeaderSize;
    }

    /** The request whose head starts at the reader index (consumed), or null (nothing consumed). */
    HttpRequest parse(ByteBuf in) {
        int start = in.readerIndex();
        int end = HeadLines.headEnd(in, start, in.writerIndex(), maxLine, maxHeaderSize);
        if (end < 0) {
            return null;
        }
        byte[] head = new byte[end - start];
        in.getBytes(start, head);
        HttpRequest r = parse(head);
        if (r != null) {
            in.readerIndex(end);
        }
        return r;
    }

    private static HttpRequest parse(byte[] b) {
        int sp1 = HeadLines.indexOf(b, 0, b.length, ' ');
        HttpMethod method = sp1 < 0 ? null : method(b, sp1);
        if (method == null) {
            return null;
        }
        int sp2 = sp1 + 1;
        while (sp2 < b.length && b[sp2] > 0x20 && b[sp2] < 0x7f) {
            sp2++;
        }
        if (sp2 == sp1 + 1 || sp2 >= b.length || b[sp2] != ' ') {
            return null;
        }
        int cr = sp2 + 9;
        if (cr + 1 >= b.length || b[cr] != '\r' || b[cr + 1] != '\n') {
            return null;
        }
        HttpVersion version = HeadLines.version(b, sp2 + 1, b.length);
        if (version == null) {
            return null;
        }
        HeadFields fields = new HeadFields(b, HeadLines.fieldCount(b, cr + 2, b.length));
        // Content-Length and Transfer-Encoding: their rules (and bodies) are Netty's decoder's.
        if (!HeadLines.fields(b, cr + 2, b.length, fields, false) || fields.contains(HttpHeaderNames.CONTENT_LENGTH)
                || fields.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null;
        }
        String uri = new String(b, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
        return new DefaultHttpRequest(version, method, uri, fields);
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
