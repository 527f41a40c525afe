package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.HttpConfig;
import io.sluice.config.RouteConfig;

/** A server's response heads as the client gets them, as functions of the response, request and settings. */
final class ResponseRewrite {
    private ResponseRewrite() {
    }

    /** What a final head's framing means for the two connections. Four shared instances: nothing allocated. */
    record Plan(boolean serverReusable, boolean closeAfter) {
        private static final Plan[] ALL = {new Plan(false, false), new Plan(false, true), new Plan(true, false),
                new Plan(true, true)};

        static Plan of(boolean serverReusable, boolean closeAfter) {
            return ALL[(serverReusable ? 2 : 0) + (closeAfter ? 1 : 0)];
        }
    }

    /**
     * Rewrites a final (2xx-5xx) head in place and says whether the server connection can serve another
     * request and whether the client connection must close after this response.
     *
     * @param closing   the client connection already closes after this response
     * @param route     the route's settings, null for a listener's default route
     * @param setCookie a sticky cookie to add (the client is new, or its server left), or null
     * @param hsts      a Strict-Transport-Security value to add when the server sent none, or null
     */
    static Plan finalHead(HttpResponse r, ClientRequest c, boolean closing, HttpConfig http, RouteConfig route,
                          String setCookie, String hsts) {
        HttpHeaders h = r.headers();
        int status = r.status().code();
        boolean serverKeepAlive = HttpUtil.isKeepAlive(r);
        HeaderPolicy.removeHopByHop(h);
        if (http.via()) {
            HeaderPolicy.appendVia(h, r.protocolVersion());
        }
        if (route != null) {
            HeaderPolicy.apply(route.responseHeaders(), h);
        }
        if (setCookie != null) {
            h.add(HttpHeaderNames.SET_COOKIE, setCookie);
        }
        addHsts(h, hsts);
        boolean bodyless = c.head || status == 204 || status == 304;
        boolean chunked = HttpUtil.isTransferEncodingChunked(r);
        boolean closeDelimited = !bodyless && !chunked && !h.contains(HttpHeaderNames.CONTENT_LENGTH);
        boolean close = closing;
        if (closeDelimited) {
            // The server ends the body by closing; a 1.1 client gets it chunked instead and may keep its connection.
            if (c.http10) {
                close = true;
            } else {
                HttpUtil.setTransferEncodingChunked(r, true);
            }
        } else if (chunked && c.http10) {
            // HTTP/1.0 has no chunked coding: send the body raw and end it by closing.
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            close = true;
        }
        if (close) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (c.http10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        return Plan.of(serverKeepAlive && !closeDelimited, close);
    }

    private static final io.netty.util.AsciiString STRICT_TRANSPORT_SECURITY = HeadWords.STRICT_TRANSPORT_SECURITY;

    /**
     * Adds Strict-Transport-Security unless the server set its own: an application that sends one (with
     * includeSubDomains or preload, say) knows its domain better than the load balancer's default.
     */
    static void addHsts(HttpHeaders h, String hsts) {
        if (hsts != null && !h.contains(STRICT_TRANSPORT_SECURITY)) {
            h.set(STRICT_TRANSPORT_SECURITY, hsts);
        }
    }

    /** An interim (1xx, not 101) head: this hop's headers go. */
    static void informational(HttpResponse r) {
        HeaderPolicy.removeHopByHop(r.headers());
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** A 101: this hop's headers go, but the switch itself (Upgrade and Connection: upgrade) goes through. */
    static void switching(HttpResponse r) {
        String protocol = r.headers().get(HttpHeaderNames.UPGRADE);
        HeaderPolicy.removeHopByHop(r.headers());
        if (protocol != null) {
            r.headers().set(HttpHeaderNames.UPGRADE, protocol);
        }
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
}
