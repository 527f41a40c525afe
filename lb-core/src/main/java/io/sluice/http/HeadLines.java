package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * The plainest form of the HTTP/1.1 head grammar, shared by the fast head parsers of requests
 * ({@link RequestHeadParser}) and responses ({@link ResponseHeadParser}): where a whole head ends in a buffer,
 * and one field line ({@code name:OWS value OWS}). Each says "not plain" for anything else, so that Netty's
 * strict decoder reads it instead: what is accepted here is a strict subset of what that decoder accepts.
 */
final class HeadLines {
    /** RFC 9110 tchar. */
    private static final boolean[] TOKEN = new boolean[128];
    /** What a plain value may hold: visible ASCII, SP and HTAB. */
    private static final boolean[] VALUE = new boolean[256];

    static {
        for (int c = 0x21; c <= 0x7e; c++) {
            VALUE[c] = true;
        }
        VALUE[' '] = true;
        VALUE['\t'] = true;
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

    private HeadLines() {
    }

    /**
     * The index just after the CRLF CRLF ending the head that starts at {@code start}, or -1: not all there, a
     * bare LF, or a line or the whole head closer to a limit than a margin (Netty then decides, with its own
     * counting).
     */
    static int headEnd(ByteBuf in, int start, int limit, int maxLine, int maxHeaderSize) {
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

    /** The field lines of {@code b[from, end)}: how many LFs there are, less the empty line's. */
    static int fieldCount(byte[] b, int from, int end) {
        int lines = -1;
        for (int i = from; i < end; i++) {
            if (b[i] == '\n') {
                lines++;
            }
        }
        return lines;
    }

    /**
     * Adds the field lines of {@code b[from, end)} up to the empty line ending the head; returns where the head
     * ends (just after that line), or -1 when a line is not plain, a CR is bare, or the head does not end before
     * {@code end}.
     *
     * @param reused {@code b} will be refilled with another head later: a name that is no {@link HeadWords}
     *               constant is copied, never a view of it (a name can outlive the head: HPACK's dynamic table
     *               keeps the names it was given, for one)
     */
    static int fields(byte[] b, int from, int end, HeadFields fields, boolean reused) {
        int lineStart = from;
        while (true) {
            if (lineStart >= end) {
                return -1;
            }
            if (b[lineStart] == '\r') {
                // the empty line, or a bare CR
                return lineStart + 1 < end && b[lineStart + 1] == '\n' ? lineStart + 2 : -1;
            }
            lineStart = field(b, lineStart, end, fields, reused);
            if (lineStart < 0) {
                return -1;
            }
        }
    }

    /**
     * Whether a head read from a copy (its first line's LF at {@code firstLf}, its end at {@code end}, both from
     * the head's start) keeps the margins {@link #headEnd} keeps to the limits: what it would have found too.
     */
    static boolean withinLimits(int firstLf, int end, int maxLine, int maxHeaderSize) {
        return firstLf < maxLine / 2 && end - 1 < firstLf + 1 + maxHeaderSize / 2;
    }

    /** "HTTP/1.1" or "HTTP/1.0" at {@code start}, else null. */
    static HttpVersion version(byte[] b, int start, int end) {
        if (start + 8 > end || b[start + 5] != '1' || b[start + 6] != '.') {
            return null;
        }
        String v = HeadWords.version(b, start, 8);
        return v == null ? null : v.equals("HTTP/1.1") ? HttpVersion.HTTP_1_1 : HttpVersion.HTTP_1_0;
    }

    /**
     * Adds the field line that starts at {@code start} (its CRLF before {@code end}) to {@code fields}: the name a
     * token with the colon right after, the value visible ASCII with inner SP/HTAB, trimmed as Netty trims it, not
     * empty. One pass over the line. Returns where the next line starts, or -1 when the line is not that plain
     * (nothing added) or a CR in it is bare.
     */
    private static int field(byte[] b, int start, int end, HeadFields fields, boolean reused) {
        int colon = start;
        while (colon < end && b[colon] != ':') {
            int c = b[colon];
            if (c < 0 || !TOKEN[c]) {
                return -1; // also obs-fold, whitespace before the colon, a CR or LF in the name
            }
            colon++;
        }
        if (colon == start || colon == end) {
            return -1;
        }
        int vs = colon + 1;
        while (vs < end && (b[vs] == ' ' || b[vs] == '\t')) {
            vs++;
        }
        int cr = vs;
        while (cr < end && VALUE[b[cr] & 0xff]) {
            cr++;
        }
        if (cr + 1 >= end || b[cr] != '\r' || b[cr + 1] != '\n') {
            return -1; // another byte in the value, or a bare CR
        }
        int ve = cr;
        while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
            ve--;
        }
        if (ve == vs) {
            return -1;
        }
        int nameLength = colon - start;
        int found = HeadWords.lookUp(b, start, nameLength);
        AsciiString name = HeadWords.form(found);
        fields.addRaw(name != null ? name : new AsciiString(b, start, nameLength, reused),
                found < 0 ? HeadWords.NONE : found >> 3, vs, ve);
        return cr + 2;
    }

    /** Visible ASCII with SP and HTAB inside. */
    static boolean visible(byte[] b, int start, int end) {
        for (int i = start; i < end; i++) {
            int c = b[i];
            if ((c < 0x21 || c > 0x7e) && c != ' ' && c != '\t') {
                return false;
            }
        }
        return true;
    }

    static int indexOf(byte[] b, int from, int end, char c) {
        for (int i = from; i < end; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }
}
