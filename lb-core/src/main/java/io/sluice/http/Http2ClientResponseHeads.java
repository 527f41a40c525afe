package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.EmptyHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.Map;

/**
 * A response head (or trailers) for an HTTP/2 client, straight from the HTTP/1.1 fields the {@link Exchange}
 * writes: names in lower case, without the fields HTTP/2 forbids (RFC 9113 8.2.2: Connection and those it
 * names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade; also Host and Netty's {@code x-http2-*}
 * notes), TE only as "trailers". What Netty's general conversion does for a response, without its map of the
 * Connection header's names built for every message (a response rarely has that header at all).
 */
final class Http2ClientResponseHeads {
    private static final AsciiString[] FORBIDDEN = {HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.HOST,
            HttpHeaderNames.UPGRADE};
    private static final long FORBIDDEN_IDS = HeadWords.ids(FORBIDDEN);
    private static final int TE = HeadWords.id(HttpHeaderNames.TE);

    /** Lower-case names of the fields common in responses (HPACK's static table has most of them). */
    private static final AsciiString[] COMMON = {HttpHeaderNames.CONTENT_TYPE, HttpHeaderNames.CONTENT_LENGTH,
            HttpHeaderNames.DATE, HttpHeaderNames.SERVER, HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.ETAG,
            HttpHeaderNames.LAST_MODIFIED, HttpHeaderNames.SET_COOKIE, HttpHeaderNames.VARY,
            HttpHeaderNames.LOCATION, HttpHeaderNames.EXPIRES, HttpHeaderNames.ACCEPT_RANGES,
            HttpHeaderNames.CONTENT_ENCODING, HttpHeaderNames.AGE, HttpHeaderNames.VIA,
            HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.TRANSFER_ENCODING,
            GrpcStatus.GRPC_STATUS, GrpcStatus.GRPC_MESSAGE};

    private Http2ClientResponseHeads() {
    }

    static Http2Headers head(HttpResponse r) {
        HttpHeaders in = r.headers();
        if (in instanceof HeadFields f) {
            return ReadOnlyHttp2Headers.serverHeaders(false, r.status().codeAsText(), fields(f));
        }
        Http2Headers out = new DefaultHttp2Headers(true, in.size() + 1);
        out.status(r.status().codeAsText());
        copy(in, out);
        return out;
    }

    static Http2Headers trailers(HttpHeaders in) {
        if (in.isEmpty()) {
            return EmptyHttp2Headers.INSTANCE;
        }
        if (in instanceof HeadFields f) {
            return ReadOnlyHttp2Headers.trailers(false, fields(f));
        }
        Http2Headers out = new DefaultHttp2Headers(true, in.size());
        copy(in, out);
        return out;
    }

    private static void copy(HttpHeaders in, Http2Headers out) {
        if (in.isEmpty()) {
            return;
        }
        java.util.List<String> connection = connection(in);
        Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            add(e.getKey(), e.getValue(), connection, out);
        }
    }

    /**
     * The same from Sluice's own table (every decoded HTTP/1.1 head and trailers) as name/value pairs for a
     * read-only head: no hash table, no entry per field, and no second validation. {@link HeadFields} took only
     * token names and values without CR, LF, NUL or other controls (its parser's and its {@code add}'s checks are
     * those of Netty's HTTP/2 validator, RFC 9113 8.2.1), and what HTTP/2 adds to them is done here: lower-case
     * names, no connection-specific fields, TE only as "trailers". Values are {@link AsciiString}s, which HPACK
     * hashes, compares and writes by their bytes.
     */
    private static AsciiString[] fields(HeadFields in) {
        int n = in.size();
        AsciiString[] out = new AsciiString[2 * n];
        java.util.List<String> connection = connection(in);
        int at = 0;
        for (int i = 0; i < n; i++) {
            int id = in.idAt(i);
            AsciiString name;
            if (id != HeadWords.NONE) {
                // A name with an id: its lower case and whether HTTP/2 forbids it are known (no note has one).
                name = HeadWords.canonical(id);
                if ((FORBIDDEN_IDS & 1L << id) != 0 || (connection != null && namedIn(connection, name))) {
                    continue;
                }
            } else {
                name = lowerCase(in.nameAt(i));
                if (dropped(name, connection)) {
                    continue;
                }
            }
            AsciiString value = id == TE ? teForHttp2(in.valueAt(i)) : in.asciiValueAt(i);
            if (value == null) {
                continue;
            }
            out[at++] = name;
            out[at++] = value;
        }
        return at == out.length ? out : java.util.Arrays.copyOf(out, at);
    }

    private static void add(CharSequence field, CharSequence value, java.util.List<String> connection,
                            Http2Headers out) {
        AsciiString name = lowerCase(field);
        if (dropped(name, connection)) {
            return;
        }
        CharSequence kept = name.contentEquals(HttpHeaderNames.TE) ? teForHttp2(value) : value;
        if (kept != null) {
            out.add(name, kept);
        }
    }

    /**
     * The name in lower case as HTTP/2 wants it: the shared constant for the fields most responses have (an
     * HTTP/1.1 decoder gives a new String per field, which would otherwise be copied once or twice here).
     */
    static AsciiString lowerCase(CharSequence name) {
        if (name instanceof AsciiString a) {
            return HeadWords.lowerCase(a);
        }
        int n = name.length();
        for (AsciiString k : COMMON) {
            if (k.length() == n && k.contentEqualsIgnoreCase(name)) {
                return k;
            }
        }
        return AsciiString.of(name).toLowerCase();
    }

    /** The Connection field's values, or null when there is none (nearly always, in a response). */
    private static java.util.List<String> connection(HttpHeaders in) {
        return in.contains(HttpHeaderNames.CONNECTION) ? in.getAll(HttpHeaderNames.CONNECTION) : null;
    }

    /** A field HTTP/2 forbids, one of Netty's notes, or one the Connection field names. */
    private static boolean dropped(AsciiString name, java.util.List<String> connection) {
        return forbidden(name) || Http2Conversion.isNote(name) || (connection != null && namedIn(connection, name));
    }

    /** By length first: most names are none of these, and an unequal length settles it. */
    private static boolean forbidden(AsciiString name) {
        int n = name.length();
        for (AsciiString f : FORBIDDEN) {
            if (f.length() == n && f.contentEquals(name)) {
                return true;
            }
        }
        return false;
    }

    private static boolean namedIn(java.util.List<String> connection, AsciiString name) {
        for (String v : connection) {
            if (listed(v, name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * What an HTTP/2 message keeps of an HTTP/1.1 TE field's value (RFC 9113 8.2.2): "trailers" alone when the
     * field lists it (gRPC servers want it), otherwise nothing (null).
     */
    static AsciiString teForHttp2(CharSequence value) {
        return listed(value, HttpHeaderValues.TRAILERS) ? HttpHeaderValues.TRAILERS : null;
    }

    /** Whether the comma-separated {@code list} names {@code token} (any case, any spaces around). */
    static boolean listed(CharSequence list, CharSequence token) {
        int n = list.length();
        int start = 0;
        while (start <= n) {
            int end = start;
            while (end < n && list.charAt(end) != ',') {
                end++;
            }
            int a = start;
            int b = end;
            while (a < b && (list.charAt(a) == ' ' || list.charAt(a) == '\t')) {
                a++;
            }
            while (b > a && (list.charAt(b - 1) == ' ' || list.charAt(b - 1) == '\t')) {
                b--;
            }
            if (b - a == token.length() && AsciiString.regionMatches(list, true, a, token, 0, b - a)) {
                return true;
            }
            start = end + 1;
        }
        return false;
    }
}
