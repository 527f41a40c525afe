package io.sluice.http;

/**
 * Where {@code http.redirect_https} sends a client: the same host and path over https. The port is dropped,
 * as NGINX's {@code return 301 https://$host$request_uri} does: the plain port says nothing about where TLS is
 * served, and 443 is what a browser assumes. Pure: it depends on the request alone.
 */
final class HttpsRedirect {
    private HttpsRedirect() {
    }

    /** The Location for this request, or null when it names no host (an HTTP/1.0 request without Host). */
    static String location(ClientRequest req) {
        String host = RouteTable.routingHost(req.host);
        return host == null || host.isEmpty() ? null : "https://" + host + req.originUri;
    }
}
