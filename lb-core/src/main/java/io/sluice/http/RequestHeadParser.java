package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpRequest;
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
    /** RFC 9110 tchar. */
    private static final boolean[] TOKEN = new boolean[128];

    static {
        for (char c = '0'; c <= '9'; c++) {
            TOKEN[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TOKEN[c] = true;
            TOKEN[c - 'a' + 'A'] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TOKEN[c] = true;
        }
    }

    private final int maxLine;
    private final int maxHeaderSize;

    RequestHeadParser(int maxLine, int maxHeaderSize) {
        this.maxLine = maxLine;
        this.maxHeaderSize = maxHeaderSize;
    }

    /** The request whose head starts at the reader index (consumed), or null (nothing consumed). */
    HttpRequest parse(ByteBuf in) {
        int start = in.readerIndex();
        int end = headEnd(in, start, in.writerIndex());
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

    /**
     * The index just after the CRLF CRLF ending the head, or -1: not all there, a bare LF, or a line or the
     * whole head closer to a limit than a margin (Netty then decides, with its own counting).
     */
    private int headEnd(ByteBuf in, int start, int limit) {
        int lineStart = start;
        int lines = 0;
        int budget = Math.min(limit, start + maxLine / 2);
        while (lineStart < budget) {
            int lf = in.indexOf(lineStart, budget, (byte) '\n');
            if (lf < 0 || lf == lineStart || in.getByte(lf - 1) != '\r') {
                return -1;
            }
            int length = lf - 1 - lineStart;
            if (length == 0) {
                return lines == 0 ? -1 : lf + 1;
            }
            if (lines == 0) {
                budget = Math.min(limit, lf + 1 + maxHeaderSize / 2);
            }
            lines++;
            lineStart = lf + 1;
        }
        return -1;
    }

    private static HttpRequest parse(byte[] b) {
        int sp1 = indexOf(b, 0, ' ');
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
        HttpVersion version = version(b, sp2 + 1);
        if (version == null) {
            return null;
        }
        int lines = -1; // the empty line ending the head is no field
        for (int i = cr + 2; i < b.length; i++) {
            if (b[i] == '\n') {
                lines++;
            }
        }
        HeadFields fields = new HeadFields(b, lines);
        int lineStart = cr + 2;
        while (true) {
            int lineEnd = indexOf(b, lineStart, '\r');
            if (lineEnd < 0 || lineEnd + 1 >= b.length || b[lineEnd + 1] != '\n') {
                return null; // a bare CR
            }
            if (lineEnd == lineStart) {
                break; // the empty line (headEnd found it)
            }
            if (!field(b, lineStart, lineEnd, fields)) {
                return null;
            }
            lineStart = lineEnd + 2;
        }
        String uri = new String(b, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
        return new DefaultHttpRequest(version, method, uri, fields);
    }

    /** {@code name:OWS value OWS}, the name a token, the value visible ASCII with inner SP/HTAB. */
    private static boolean field(byte[] b, int start, int end, HeadFields fields) {
        int colon = start;
        while (colon < end && b[colon] != ':') {
            int c = b[colon];
            if (c < 0 || !TOKEN[c]) {
                return false; // also obs-fold and whitespace before the colon
            }
            colon++;
        }
        if (colon == start || colon == end) {
            return false;
        }
        int vs = colon + 1;
        while (vs < end && (b[vs] == ' ' || b[vs] == '\t')) {
            vs++;
        }
        int ve = end;
        while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
            ve--;
        }
        if (ve == vs) {
            return false;
        }
        for (int i = vs; i < ve; i++) {
            int c = b[i];
            if ((c < 0x21 || c > 0x7e) && c != ' ' && c != '\t') {
                return false;
            }
        }
        int nameLength = colon - start;
        if (framing(b, start, nameLength)) {
            return false;
        }
        AsciiString name = HeadWords.name(b, start, nameLength);
        fields.addRaw(name != null ? name : new AsciiString(b, start, nameLength, false), vs, ve);
        return true;
    }

    /** Content-Length and Transfer-Encoding: their rules (and bodies) are Netty's decoder's. */
    private static boolean framing(byte[] b, int start, int length) {
        return sameIgnoringCase(b, start, length, "content-length")
                || sameIgnoringCase(b, start, length, "transfer-encoding");
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

    private static HttpVersion version(byte[] b, int start) {
        if (start + 8 > b.length || b[start + 5] != '1' || b[start + 6] != '.') {
            return null;
        }
        String v = HeadWords.version(b, start, 8);
        return v == null ? null : v.equals("HTTP/1.1") ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    }

    private static boolean same(byte[] b, int start, AsciiString s) {
        for (int i = 0; i < s.length(); i++) {
            if (b[start + i] != s.byteAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** {@code lower} is lower case. */
    private static boolean sameIgnoringCase(byte[] b, int start, int length, String lower) {
        if (length != lower.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != lower.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] b, int from, char c) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
