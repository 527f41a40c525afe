package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

/**
 * The checks on a request head that Netty's strict decoder leaves to us. Netty already refuses (as a decoder
 * failure) Content-Length with Transfer-Encoding, differing or repeated Content-Length, a Transfer-Encoding
 * whose last coding is not chunked, Transfer-Encoding on HTTP/1.0, bad chunk sizes, whitespace before a
 * header colon, bare LF and CR/LF/NUL in values; obs-fold is caught by {@link HttpFrontCodecs.RequestDecoder}.
 */
final class RequestValidator {
    private RequestValidator() {
    }

    /** Why a request failed to decode, as a status: 414, 431 or 400. */
    static HttpResponseStatus decodeFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return HttpResponseStatus.REQUEST_URI_TOO_LONG;
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE;
        }
        return HttpResponseStatus.BAD_REQUEST;
    }

    /** A reason to refuse the request with 400 or 431, or null when it may be forwarded. */
    static Refusal check(HttpRequest req, int maxHeaders) {
        if (req.headers().size() > maxHeaders) {
            return new Refusal(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "too many header fields");
        }
        if (req.protocolVersion().majorVersion() != 1) {
            return new Refusal(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP version not supported");
        }
        // Only "chunked" itself: Netty accepts "gzip, chunked", but a backend that does not know gzip as a
        // transfer coding may frame the body differently.
        HttpHeaders h = req.headers();
        int te = HeadFields.count(h, HttpHeaderNames.TRANSFER_ENCODING);
        if (te > 0 && (te != 1 || !h.get(HttpHeaderNames.TRANSFER_ENCODING).trim().equalsIgnoreCase("chunked"))) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "unsupported Transfer-Encoding");
        }
        int hosts = HeadFields.count(h, HttpHeaderNames.HOST);
        if (hosts > 1) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
        }
        if (hosts == 0 && req.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "Host header required");
        }
        if (req.method().equals(HttpMethod.CONNECT)) {
            return new Refusal(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported");
        }
        String uri = req.uri();
        if (!uri.startsWith("/") && !uri.startsWith("http://") && !uri.startsWith("https://")
                && !(uri.equals("*") && req.method().equals(HttpMethod.OPTIONS))) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        if (!visibleAscii(uri)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        return null;
    }

    /**
     * A request target is visible ASCII (RFC 3986; anything else percent-encoded). Other bytes are refused rather
     * than passed on: the decoder reads them as ISO-8859-1 and the encoder writes the target as UTF-8, so a byte
     * 0x8C would reach the server as C2 8C, a different target than the client sent (found by HttpRequestFuzzTest).
     */
    private static boolean visibleAscii(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c <= 0x20 || c >= 0x7F) {
                return false;
            }
        }
        return true;
    }

    record Refusal(HttpResponseStatus status, String message) {
    }
}
