package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.HttpConfig;
import io.sluice.config.RouteConfig;

/** The request as a server gets it, as a function of the client's request and the settings alone. */
final class RequestRewrite {
    private RequestRewrite() {
    }

    /**
     * Rewrites {@code c}'s request in place: hop-by-hop headers out (an asked-for Upgrade kept), forwarding
     * headers in, the route's header rules, the origin-form target after the route's prefix rewrite, HTTP/1.1
     * (the server connection is Sluice's own and kept alive whatever the client speaks).
     *
     * @param route      the route's settings, null for a listener's default route
     * @param rewritten  the origin-form URI after the route's prefix rewrite
     * @param secure     the client's connection is TLS: the forwarding headers say https
     * @param trusted    the client is one of {@code http.trusted_proxies}: its forwarding headers are kept
     */
    static void toServer(ClientRequest c, RouteConfig route, String rewritten, String clientIp, boolean clientIpv6,
                         HttpConfig http, boolean secure, boolean trusted) {
        HttpRequest request = c.request;
        HttpHeaders h = request.headers();
        if (c.absoluteForm) {
            h.set(HttpHeaderNames.HOST, c.host);
        }
        HeaderPolicy.removeHopByHop(h);
        if (c.teTrailers) {
            // TE is for this hop, but its "trailers" (only that: other codings are the hop's own) says the client
            // reads trailers, and Sluice passes them on from the next hop: gRPC servers require it (traefik#2895).
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (c.upgrade != null) {
            h.set(HttpHeaderNames.UPGRADE, c.upgrade);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        HeaderPolicy.forwardRequest(request, clientIp, clientIpv6, c.host, http, secure, trusted);
        if (route != null) {
            HeaderPolicy.apply(route.requestHeaders(), h);
        }
        if (rewritten != request.uri()) {
            request.setUri(rewritten); // Netty checks a new target; the unchanged one was checked when it was set
        }
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** An HTTP/1.0 client may omit Host, but the request goes on as HTTP/1.1, which requires one. */
    static void ensureHost(HttpRequest request, String fallback) {
        if (!request.headers().contains(HttpHeaderNames.HOST)) {
            request.headers().set(HttpHeaderNames.HOST, fallback);
        }
    }
}
