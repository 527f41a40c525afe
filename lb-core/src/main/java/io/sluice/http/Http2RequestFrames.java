package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A request to an HTTP/2 server as HTTP/2 headers, straight from the exchange's HTTP/1.1 objects: pseudo-headers
 * from the method, the (origin-form) target and Host, the other headers as they are but lower-case, minus what
 * belongs to one HTTP/1.1 hop (RFC 9113 8.2.2). Netty's {@code HttpConversionUtil} does the same through a
 * {@code URI}, a lower-case map of the Connection tokens and a note header per request; the target here is
 * already origin-form ({@link RequestRewrite}), so none of that is needed.
 */
final class Http2RequestFrames {
    private static final AsciiString ROOT = AsciiString.cached("/");

    private Http2RequestFrames() {
    }

    /** The request's head; {@code scheme} is the connection's ({@code https} over TLS). */
    static Http2Headers head(HttpRequest r, AsciiString scheme) {
        HttpHeaders in = r.headers();
        if (in instanceof HeadFields f && !HttpMethod.CONNECT.equals(r.method()) && isOriginForm(r.uri())
                && !f.contains(HttpHeaderNames.CONNECTION)) {
            Http2Headers pairs = pairs(f, r.method().asciiName(), r.uri(), scheme);
            if (pairs != null) {
                return pairs;
            }
        }
        Http2Headers out = new DefaultHttp2Headers(true, in.size() + 4);
        String uri = r.uri();
        String host = in.get(HttpHeaderNames.HOST);
        out.method(r.method().asciiName());
        if (HttpMethod.CONNECT.equals(r.method())) {
            out.authority(uri); // authority-form, and neither :scheme nor :path (RFC 9113 8.5)
        } else {
            out.scheme(scheme);
            if (uri.isEmpty()) {
                out.path(ROOT);
            } else if (uri.charAt(0) == '/' || "*".equals(uri)) {
                out.path(uri);
            } else {
                // Absolute-form (not what RequestRewrite sends, but a target is a target): its authority wins.
                int authority = uri.indexOf("://");
                int path = authority < 0 ? -1 : uri.indexOf('/', authority + 3);
                int query = authority < 0 ? -1 : uri.indexOf('?', authority + 3);
                int end = path < 0 ? (query < 0 ? uri.length() : query) : (query < 0 ? path : Math.min(path, query));
                if (authority > 0) {
                    host = uri.substring(authority + 3, end);
                }
                String rest = uri.substring(authority < 0 ? 0 : end);
                out.path(rest.isEmpty() ? "/" : rest.charAt(0) == '?' ? "/" + rest : rest);
            }
            if (host != null) {
                int at = host.indexOf('@'); // no userinfo in :authority (RFC 9113 8.3.1)
                out.authority(at < 0 ? host : host.substring(at + 1));
            }
        }
        copy(in, out);
        return out;
    }

    /** A request's trailers. */
    static Http2Headers trailers(HttpHeaders in) {
        if (in instanceof HeadFields f && !f.contains(HttpHeaderNames.CONNECTION)) {
            return ReadOnlyHttp2Headers.trailers(false, fields(f, null));
        }
        Http2Headers out = new DefaultHttp2Headers(true, in.size());
        copy(in, out);
        return out;
    }

    private static boolean isOriginForm(String uri) {
        return !uri.isEmpty() && (uri.charAt(0) == '/' || "*".equals(uri));
    }

    /**
     * The common request (origin-form, no Connection field left) from Sluice's own table as a read-only head of
     * name/value pairs: no hash table, no entry per field, and no second validation. {@link HeadFields} took only
     * token names and values without CR, LF, NUL or other controls (the checks of Netty's HTTP/2 validator, RFC
     * 9113 8.2.1); what HTTP/2 adds (lower-case names, no connection-specific fields, TE only as "trailers", Host as
     * :authority without userinfo) is done here, as {@link #copy} does for other headers. Null without a Host.
     */
    private static Http2Headers pairs(HeadFields in, AsciiString method, String path, AsciiString scheme) {
        AsciiString[] authority = new AsciiString[1];
        AsciiString[] fields = fields(in, authority);
        AsciiString host = authority[0];
        if (host == null) {
            return null; // no :authority then, which a read-only head cannot leave out
        }
        int at = host.indexOf('@', 0); // no userinfo in :authority (RFC 9113 8.3.1)
        if (at >= 0) {
            host = host.subSequence(at + 1, host.length(), true);
        }
        return ReadOnlyHttp2Headers.clientHeaders(false, method, new AsciiString(path), scheme, host, fields);
    }

    /** The fields as pairs, minus this hop's; the Host value goes to {@code authority[0]} when asked for. */
    private static AsciiString[] fields(HeadFields in, AsciiString[] authority) {
        int n = in.size();
        AsciiString[] out = new AsciiString[2 * n];
        int at = 0;
        for (int i = 0; i < n; i++) {
            AsciiString name = Http2ClientResponseHeads.lowerCase(in.nameAt(i));
            if (authority != null && authority[0] == null && HttpHeaderNames.HOST.contentEquals(name)) {
                authority[0] = in.asciiValueAt(i);
                continue;
            }
            if (hopByHop(name)) {
                continue;
            }
            AsciiString value = HttpHeaderNames.TE.contentEquals(name)
                    ? Http2ClientResponseHeads.teForHttp2(in.valueAt(i)) : in.asciiValueAt(i);
            if (value == null) {
                continue;
            }
            out[at++] = name;
            out[at++] = value;
        }
        return at == out.length ? out : java.util.Arrays.copyOf(out, at);
    }

    private static void copy(HttpHeaders in, Http2Headers out) {
        List<CharSequence> listed = in.contains(HttpHeaderNames.CONNECTION) ? connectionTokens(in) : null;
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = lowerCase(e.getKey());
            if (hopByHop(name) || (listed != null && AsciiString.containsContentEqualsIgnoreCase(listed, name))) {
                continue;
            }
            CharSequence value = HttpHeaderNames.TE.contentEquals(name)
                    ? Http2ClientResponseHeads.teForHttp2(e.getValue()) : e.getValue();
            if (value != null) {
                out.add(name, value);
            }
        }
    }

    /** The headers that only make sense on one HTTP/1.1 connection, and Host (now :authority). */
    private static boolean hopByHop(CharSequence name) {
        return switch (name.length()) {
            case 4 -> HttpHeaderNames.HOST.contentEquals(name);
            case 7 -> HttpHeaderNames.UPGRADE.contentEquals(name);
            case 10 -> HttpHeaderNames.CONNECTION.contentEquals(name) || HttpHeaderNames.KEEP_ALIVE.contentEquals(name);
            case 16 -> HttpHeaderNames.PROXY_CONNECTION.contentEquals(name);
            case 17 -> HttpHeaderNames.TRANSFER_ENCODING.contentEquals(name);
            // No x-http2-* note of Netty's can be here (no Netty conversion made the request, and the HTTP/2 front
            // drops a client's): any other x-http2-* header is the client's own and goes on.
            default -> false;
        };
    }

    /** The names a Connection header lists (HeaderPolicy removed most already; what is left goes here). */
    private static List<CharSequence> connectionTokens(HttpHeaders in) {
        List<CharSequence> names = new ArrayList<>(2);
        for (String value : in.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String t = token.trim();
                if (!t.isEmpty()) {
                    names.add(t);
                }
            }
        }
        return names;
    }

    /** HTTP/2 names are lower-case; HTTP/1.1 ones are as the client wrote them. No copy when already lower. */
    static CharSequence lowerCase(CharSequence name) {
        if (name instanceof AsciiString a) {
            return a.toLowerCase();
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return AsciiString.of(name).toLowerCase();
            }
        }
        return name;
    }
}
