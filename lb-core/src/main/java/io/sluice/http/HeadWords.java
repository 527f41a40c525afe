package io.sluice.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;

/**
 * Shared instances for the words that recur in nearly every HTTP/1.1 head: common header names (in the cases
 * clients and servers write them) and the words of a status line. Netty's decoder makes a new object for each
 * name and word it reads; the decoders here hand out these instead when the bytes are exactly the same, so that
 * what is forwarded is byte for byte what was read. Immutable, shared by every event loop.
 */
final class HeadWords {
    private static final String[] NAMES = {
        "Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Access-Control-Allow-Origin", "Age",
        "Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
        "Cookie", "Date", "ETag", "Expires", "Host", "If-Modified-Since", "If-None-Match", "Keep-Alive",
        "Last-Modified", "Location", "Origin", "Pragma", "Referer", "Server", "Set-Cookie",
        "Strict-Transport-Security", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "Via",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "X-Request-ID",
    };
    /** Names by length, each in its written case and in lower case (HTTP/2-era software writes lower case). */
    private static final AsciiString[][] BY_LENGTH = byLength();
    /** The lower-case constant of each {@link #BY_LENGTH} name, at the same place (itself when lower case). */
    private static final AsciiString[][] LOWER_BY_LENGTH = lowerByLength();
    private static final String HTTP_11 = "HTTP/1.1";
    private static final String HTTP_10 = "HTTP/1.0";
    /** "100" ... "599". */
    private static final String[] CODES = new String[600];
    /** The standard reason phrase of each code, as Netty's status constants spell it. */
    private static final String[] REASONS = new String[600];

    static {
        for (int i = 100; i < 600; i++) {
            CODES[i] = Integer.toString(i);
            REASONS[i] = HttpResponseStatus.valueOf(i).reasonPhrase().toString();
        }
    }

    private HeadWords() {
    }

    private static AsciiString[][] byLength() {
        int max = 0;
        for (String n : NAMES) {
            max = Math.max(max, n.length());
        }
        java.util.List<java.util.List<AsciiString>> lists = new java.util.ArrayList<>();
        for (int i = 0; i <= max; i++) {
            lists.add(new java.util.ArrayList<>());
        }
        for (String n : NAMES) {
            lists.get(n.length()).add(AsciiString.cached(n));
            String lower = n.toLowerCase(java.util.Locale.ROOT);
            if (!lower.equals(n)) {
                lists.get(n.length()).add(AsciiString.cached(lower));
            }
        }
        AsciiString[][] out = new AsciiString[max + 1][];
        for (int i = 0; i <= max; i++) {
            out[i] = lists.get(i).toArray(new AsciiString[0]);
        }
        return out;
    }

    private static AsciiString[][] lowerByLength() {
        AsciiString[][] out = new AsciiString[BY_LENGTH.length][];
        java.util.Map<String, AsciiString> lower = new java.util.HashMap<>();
        for (AsciiString[] names : BY_LENGTH) {
            for (AsciiString n : names) {
                if (n.toString().equals(n.toString().toLowerCase(java.util.Locale.ROOT))) {
                    lower.put(n.toString(), n);
                }
            }
        }
        for (int i = 0; i < BY_LENGTH.length; i++) {
            out[i] = new AsciiString[BY_LENGTH[i].length];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = lower.get(BY_LENGTH[i][j].toString().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return out;
    }

    /**
     * The name in lower case, as HTTP/2 wants it: for one of the shared names, its shared lower-case form (whose
     * hash HPACK's table lookups find cached), found by identity; else {@link AsciiString#toLowerCase()}.
     */
    static AsciiString lowerCase(AsciiString name) {
        int length = name.length();
        if (length < BY_LENGTH.length) {
            AsciiString[] names = BY_LENGTH[length];
            for (int j = 0; j < names.length; j++) {
                if (names[j] == name) {
                    return LOWER_BY_LENGTH[length][j];
                }
            }
        }
        return name.toLowerCase();
    }

    /** The shared name whose bytes are exactly {@code b[start, start+length)}, or null. */
    static AsciiString name(byte[] b, int start, int length) {
        if (length >= BY_LENGTH.length) {
            return null;
        }
        for (AsciiString n : BY_LENGTH[length]) {
            if (sameBytes(n.array(), n.arrayOffset(), b, start, length)) {
                return n;
            }
        }
        return null;
    }

    /** "HTTP/1.1" or "HTTP/1.0" when those are the bytes, else null. */
    static String version(byte[] b, int start, int length) {
        if (length == 8 && b[start] == 'H' && b[start + 5] == '1' && b[start + 6] == '.') {
            if (sameAscii(HTTP_11, b, start, length)) {
                return HTTP_11;
            }
            if (sameAscii(HTTP_10, b, start, length)) {
                return HTTP_10;
            }
        }
        return null;
    }

    /** A three-digit status code 100-599 as a shared string, or null. */
    static String code(byte[] b, int start, int length) {
        if (length != 3) {
            return null;
        }
        int c = 0;
        for (int i = start; i < start + 3; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return null;
            }
            c = c * 10 + d;
        }
        return c >= 100 && c < 600 ? CODES[c] : null;
    }

    /** The standard reason phrase of {@code code} when those are the bytes, else null. */
    static String reason(String code, byte[] b, int start, int length) {
        if (code == null) {
            return null;
        }
        String r = REASONS[Integer.parseInt(code)];
        return r.length() == length && sameAscii(r, b, start, length) ? r : null;
    }

    static boolean sameBytes(byte[] a, int aStart, byte[] b, int bStart, int length) {
        for (int i = 0; i < length; i++) {
            if (a[aStart + i] != b[bStart + i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameAscii(String s, byte[] b, int start, int length) {
        for (int i = 0; i < length; i++) {
            if (s.charAt(i) != b[start + i]) {
                return false;
            }
        }
        return true;
    }
}
