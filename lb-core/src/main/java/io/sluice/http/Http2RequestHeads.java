package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Map;

/**
 * A client's HTTP/2 request head (or trailers) as the HTTP/1.1 objects an {@link Exchange} takes, built straight
 * from the decoded {@link Http2Headers}: {@code :authority} becomes Host, cookies are joined again (RFC 9113
 * 8.2.3), a body without Content-Length is marked chunked for the HTTP/1.1 side. Unlike Netty's general
 * conversion it adds no {@code x-http2-*} notes to strip afterwards, parses no URI and copies no header twice.
 * Netty's HTTP/2 decoder has already refused what HTTP/2 forbids (connection-specific fields, upper-case names, a
 * missing or repeated pseudo-header); the fields go into a {@link HeadFields} table, as an HTTP/1.1 request's
 * do, which validates names and values again as they go on to an HTTP/1.1 server. The request and its table are
 * reused ({@link Http2Request}).
 */
final class Http2RequestHeads {
    private static final HttpMethod[] COMMON_METHODS = {HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.HEAD, HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.PATCH};
    private static final AsciiString COOKIE = HttpHeaderNames.COOKIE;

    private Http2RequestHeads() {
    }

    /** Why a head cannot become a request: the stream is reset with PROTOCOL_ERROR. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The request of a stream's first HEADERS frame.
     *
     * @param endStream the frame ends the stream: no body follows
     */
    static HttpRequest request(Http2Headers h, boolean endStream) throws Malformed {
        CharSequence method = h.method();
        if (method == null) {
            throw new Malformed("no :method");
        }
        HttpMethod m = method(method);
        CharSequence target = m == HttpMethod.CONNECT ? h.authority() : h.path();
        if (target == null) {
            throw new Malformed("no request target");
        }
        Http2Request request = Http2Request.take(m, target.toString(), h.size());
        try {
            fill(request.fields(), h, endStream);
        } catch (Malformed | RuntimeException e) {
            request.giveBack(); // no exchange will have it
            throw e;
        }
        return request;
    }

    private static void fill(HeadFields out, Http2Headers h, boolean endStream) throws Malformed {
        CharSequence authority = h.authority();
        if (authority != null) {
            out.add(HttpHeaderNames.HOST, authority);
        }
        StringBuilder cookies = null;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() == 0) {
                throw new Malformed("empty header name");
            }
            if (name.charAt(0) == ':' || Http2Conversion.isNote(name)) {
                continue; // pseudo-headers are read above; notes are Netty's, a client's are dropped as Netty did
            }
            CharSequence value = e.getValue();
            if (AsciiString.contentEqualsIgnoreCase(COOKIE, name)) {
                if (cookies == null) {
                    cookies = new StringBuilder(value.length());
                } else {
                    cookies.append("; ");
                }
                cookies.append(value);
            } else if (AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.HOST, name)) {
                // RFC 9113 8.3.1: a Host that disagrees with :authority makes the request malformed.
                String host = out.get(HttpHeaderNames.HOST);
                if (host == null) {
                    out.add(name, value);
                } else if (!AsciiString.contentEqualsIgnoreCase(host, value)) {
                    throw new Malformed("Host and :authority disagree");
                }
            } else if (!AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.TRAILER, name)) {
                out.add(name, value);
            }
        }
        if (cookies != null) {
            out.add(COOKIE, cookies.toString());
        }
        if (!endStream && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            out.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
    }

    /** Trailers (a HEADERS frame ending a stream that had a body) as the fields of a last HttpContent. */
    static HttpHeaders trailers(Http2Headers h) throws Malformed {
        HttpHeaders out = new HeadFields(null, h.size());
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() == 0 || name.charAt(0) == ':') {
                throw new Malformed("pseudo-header in trailers");
            }
            if (!Http2Conversion.isNote(name)) {
                out.add(name, e.getValue());
            }
        }
        return out;
    }

    /** The method without a String and a map look-up for the common ones. */
    private static HttpMethod method(CharSequence name) {
        for (HttpMethod m : COMMON_METHODS) {
            if (m.asciiName().contentEquals(name)) {
                return m;
            }
        }
        return HttpMethod.valueOf(name.toString());
    }
}
