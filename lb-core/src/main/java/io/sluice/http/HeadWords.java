package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import io.netty.util.internal.PlatformDependent;
import java.util.Arrays;

/**
 * Shared instances for the words that recur in nearly every HTTP/1.1 head: common header names (in the cases
 * clients and servers write them) and the words of a status line. Netty's decoder makes a new object for each
 * name and word it reads; the decoders here hand out these instead when the bytes are exactly the same, so that
 * what is forwarded is byte for byte what was read. Immutable, shared by every event loop.
 */
final class HeadWords {
    /**
     * Names with an id (see {@link #id}): the canonical object of each, lower case. Netty's constants where it
     * has one, so a lookup with one of them (what Sluice and Netty's {@code HttpUtil} ask with) is found by
     * identity; Sluice's own below. At most 64, the bits of {@link HeadFields}' set of names present.
     */
    static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
    static final AsciiString FORWARDED = AsciiString.cached("forwarded");
    static final AsciiString STRICT_TRANSPORT_SECURITY = AsciiString.cached("strict-transport-security");
    private static final AsciiString[] CANONICAL = {
        HttpHeaderNames.ACCEPT, HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE,
        HttpHeaderNames.ACCEPT_RANGES, HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, HttpHeaderNames.AGE,
        HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.CONNECTION,
        HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE,
        HttpHeaderNames.COOKIE, HttpHeaderNames.DATE, HttpHeaderNames.ETAG, HttpHeaderNames.EXPIRES,
        HttpHeaderNames.HOST, HttpHeaderNames.IF_MODIFIED_SINCE, HttpHeaderNames.IF_NONE_MATCH,
        HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.LOCATION, HttpHeaderNames.ORIGIN,
        HttpHeaderNames.PRAGMA, HttpHeaderNames.REFERER, HttpHeaderNames.SERVER, HttpHeaderNames.SET_COOKIE,
        STRICT_TRANSPORT_SECURITY, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
        HttpHeaderNames.USER_AGENT, HttpHeaderNames.VARY, HttpHeaderNames.VIA, X_FORWARDED_FOR, X_FORWARDED_HOST,
        X_FORWARDED_PROTO, X_REQUEST_ID, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TE,
        HttpHeaderNames.TRAILER, FORWARDED, HttpHeaderNames.EXPECT, HttpHeaderNames.RANGE,
    };
    /** The spellings read into shared instances besides lower case (exact bytes only: forwarded as read). */
    private static final String[] WRITTEN = {
        "Accept", "Accept-Encoding", "Accept-Language", "Accept-Ranges", "Access-Control-Allow-Origin", "Age",
        "Authorization", "Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
        "Cookie", "Date", "ETag", "Expires", "Host", "If-Modified-Since", "If-None-Match", "Keep-Alive",
        "Last-Modified", "Location", "Origin", "Pragma", "Referer", "Server", "Set-Cookie",
        "Strict-Transport-Security", "Transfer-Encoding", "Upgrade", "User-Agent", "Vary", "Via",
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Request-Id", "X-Request-ID",
        "Proxy-Connection", "TE", "Trailer", "Forwarded", "Expect", "Range",
    };
    /** No id: a name outside {@link #CANONICAL}. */
    static final int NONE = -1;
    /** Per id, the shared spellings (the written ones, then lower case): what a read name may become. */
    private static final AsciiString[][] FORMS;
    /** Open addressing by the names' case-insensitive hash ({@link AsciiString#hashCode}): the hash, the id + 1. */
    private static final int[] SLOT_HASH = new int[256];
    private static final byte[] SLOT_ID = new byte[256];
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
        if (CANONICAL.length > 64) {
            throw new IllegalStateException("more names with an id than bits in a long");
        }
        java.util.List<java.util.List<AsciiString>> forms = new java.util.ArrayList<>();
        for (int id = 0; id < CANONICAL.length; id++) {
            AsciiString c = CANONICAL[id];
            if (!c.toString().equals(c.toString().toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalStateException("not lower case: " + c);
            }
            forms.add(new java.util.ArrayList<>());
            int h = c.hashCode();
            int s = h & (SLOT_HASH.length - 1);
            while (SLOT_ID[s] != 0) {
                s = (s + 1) & (SLOT_HASH.length - 1);
            }
            SLOT_HASH[s] = h;
            SLOT_ID[s] = (byte) (id + 1);
        }
        for (String w : WRITTEN) {
            int id = id(w);
            if (id == NONE) {
                throw new IllegalStateException("no id: " + w);
            }
            AsciiString n = AsciiString.cached(w);
            forms.get(id).add(n);
        }
        FORMS = new AsciiString[CANONICAL.length][];
        for (int id = 0; id < CANONICAL.length; id++) {
            forms.get(id).add(CANONICAL[id]);
            FORMS[id] = forms.get(id).toArray(new AsciiString[0]);
        }
    }

    private HeadWords() {
    }

    /**
     * The id of a header name (0 to 63; the same for every spelling of it, ASCII case ignored), or
     * {@link #NONE}. Asked with a constant of {@link #CANONICAL} (Netty's names, Sluice's), it costs a cached
     * hash and an identity check.
     */
    static int id(CharSequence name) {
        int h = AsciiString.hashCode(name);
        int s = h & (SLOT_HASH.length - 1);
        int id;
        while ((id = SLOT_ID[s] - 1) >= 0) {
            if (SLOT_HASH[s] == h) {
                AsciiString c = CANONICAL[id];
                if (c == name || c.contentEqualsIgnoreCase(name)) {
                    return id;
                }
            }
            s = (s + 1) & (SLOT_HASH.length - 1);
        }
        return NONE;
    }

    /**
     * The name {@code b[start, start+length)} as {@code id * 8 + spelling}, where spelling is 1 + the index of
     * the shared instance with exactly these bytes ({@link #form}), 0 when none has; {@link #NONE} when the
     * name has no id.
     */
    static int lookUp(byte[] b, int start, int length) {
        int h = PlatformDependent.hashCodeAscii(b, start, length);
        int s = h & (SLOT_HASH.length - 1);
        int id;
        while ((id = SLOT_ID[s] - 1) >= 0) {
            if (SLOT_HASH[s] == h && CANONICAL[id].length() == length) {
                AsciiString[] forms = FORMS[id];
                for (int f = 0; f < forms.length; f++) {
                    AsciiString n = forms[f];
                    if (sameBytes(n.array(), n.arrayOffset(), b, start, length)) {
                        return id * 8 + f + 1;
                    }
                }
                AsciiString c = CANONICAL[id];
                if (sameIgnoringCase(c.array(), c.arrayOffset(), b, start, length)) {
                    return id * 8;
                }
            }
            s = (s + 1) & (SLOT_HASH.length - 1);
        }
        return NONE;
    }

    /** The lower-case name of {@code id} (an id {@link #id} gave). */
    static AsciiString canonical(int id) {
        return CANONICAL[id];
    }

    /** The set of the names' ids, one bit each; every name must have one. */
    static long ids(AsciiString... names) {
        long set = 0;
        for (AsciiString n : names) {
            int id = id(n);
            if (id == NONE) {
                throw new IllegalArgumentException("no id for " + n);
            }
            set |= 1L << id;
        }
        return set;
    }

    /** The shared instance of a {@link #lookUp} result, or null (no id, or no instance has these bytes). */
    static AsciiString form(int found) {
        return found < 0 || (found & 7) == 0 ? null : FORMS[found >> 3][(found & 7) - 1];
    }

    /**
     * The name in lower case, as HTTP/2 wants it: for one of the shared names, its shared lower-case form (whose
     * hash HPACK's table lookups find cached), found by identity; else {@link AsciiString#toLowerCase()}.
     */
    static AsciiString lowerCase(AsciiString name) {
        int id = id(name);
        if (id != NONE) {
            for (AsciiString f : FORMS[id]) {
                if (f == name) {
                    return CANONICAL[id];
                }
            }
        }
        return name.toLowerCase();
    }

    /** The shared name whose bytes are exactly {@code b[start, start+length)}, or null. */
    static AsciiString name(byte[] b, int start, int length) {
        return form(lookUp(b, start, length));
    }

    private static boolean sameIgnoringCase(byte[] lower, int lowerStart, byte[] b, int start, int length) {
        for (int i = 0; i < length; i++) {
            int c = b[start + i];
            if (c >= 'A' && c <= 'Z') {
                c += 32;
            }
            if (lower[lowerStart + i] != c) {
                return false;
            }
        }
        return true;
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

    /** The JDK's range compare, vectorized past a few bytes (values such as Date and ETag are 20-30). */
    static boolean sameBytes(byte[] a, int aStart, byte[] b, int bStart, int length) {
        return Arrays.equals(a, aStart, aStart + length, b, bStart, bStart + length);
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
