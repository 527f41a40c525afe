package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.EmptyHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
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
        Http2Headers out = new DefaultHttp2Headers(true, in.size() + 1);
        out.status(r.status().codeAsText());
        copy(in, out);
        return out;
    }

    static Http2Headers trailers(HttpHeaders in) {
        if (in.isEmpty()) {
            return EmptyHttp2Headers.INSTANCE;
        }
        Http2Headers out = new DefaultHttp2Headers(true, in.size());
        copy(in, out);
        return out;
    }

    private static void copy(HttpHeaders in, Http2Headers out) {
        if (in.isEmpty()) {
            return;
        }
        if (in instanceof HeadFields f) {
            copy(f, out);
            return;
        }
        java.util.List<String> connection = in.contains(HttpHeaderNames.CONNECTION)
                ? in.getAll(HttpHeaderNames.CONNECTION) : null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            add(e.getKey(), e.getValue(), connection, out);
        }
    }

    /** The same from Sluice's own table (every decoded HTTP/1.1 head), without an entry object per field. */
    private static void copy(HeadFields in, Http2Headers out) {
        java.util.List<String> connection = in.contains(HttpHeaderNames.CONNECTION)
                ? in.getAll(HttpHeaderNames.CONNECTION) : null;
        for (int i = 0, n = in.size(); i < n; i++) {
            add(in.nameAt(i), in.valueAt(i), connection, out);
        }
    }

    private static void add(CharSequence field, CharSequence value, java.util.List<String> connection,
                            Http2Headers out) {
        AsciiString name = lowerCase(field);
        if (forbidden(name) || Http2Conversion.isNote(name)
                || (connection != null && namedIn(connection, name))) {
            return;
        }
        if (name.contentEquals(HttpHeaderNames.TE)) {
            if (listed(value, HttpHeaderValues.TRAILERS)) {
                out.add(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            }
        } else {
            out.add(name, value);
        }
    }

    /**
     * The name in lower case as HTTP/2 wants it: the shared constant for the fields most responses have (an
     * HTTP/1.1 decoder gives a new String per field, which would otherwise be copied once or twice here).
     */
    static AsciiString lowerCase(CharSequence name) {
        if (name instanceof AsciiString a) {
            return a.toLowerCase();
        }
        int n = name.length();
        for (AsciiString k : COMMON) {
            if (k.length() == n && k.contentEqualsIgnoreCase(name)) {
                return k;
            }
        }
        return AsciiString.of(name).toLowerCase();
    }

    private static boolean forbidden(AsciiString name) {
        for (AsciiString f : FORBIDDEN) {
            if (f.contentEquals(name)) {
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
