package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A client's request head as Sluice reads it, once, before changing anything: its target split into the host
 * and the origin-form URI (used by routing and by forwarding alike), and the facts the exchange acts on. Pure:
 * it depends on the request alone (a reused exchange reads its next request into the same object).
 */
final class ClientRequest {
    HttpRequest request;
    /** As the client sent them, for the access log (the request is rewritten before forwarding). */
    String clientUri;
    HttpVersion clientVersion;
    /** The authority of an absolute-form target, else the Host header; null when neither is there. */
    String host;
    /** The target in origin form: an absolute-form target's path (and query), "/" when it has none. */
    String originUri;
    boolean absoluteForm;
    boolean keepAlive;
    boolean http10;
    boolean head;
    boolean idempotent;
    /** Content-Length, or -1 when absent or chunked. */
    long contentLength;
    boolean hasBody;
    /**
     * The protocol a bodiless request asks to switch to (Upgrade named in Connection, RFC 9110 7.8), else null. Any
     * method: WebSocket upgrades with GET, the Kubernetes API server's exec and port-forward with POST (SPDY/3.1).
     */
    String upgrade;
    /** A gRPC call (content-type application/grpc...): Sluice's own answers are then gRPC errors. */
    boolean grpc;
    /**
     * A gRPC call whose client said it takes trailers (TE: trailers): gRPC servers require it, so it is passed
     * on. Any other request loses TE with the other hop-by-hop headers.
     */
    boolean teTrailers;

    private ClientRequest() {
    }

    private void fill(HttpRequest request, String host, String originUri, boolean absoluteForm) {
        this.request = request;
        this.clientUri = request.uri();
        this.clientVersion = request.protocolVersion();
        this.host = host;
        this.originUri = originUri;
        this.absoluteForm = absoluteForm;
        HttpMethod m = request.method();
        this.keepAlive = HttpUtil.isKeepAlive(request);
        this.http10 = clientVersion.equals(HttpVersion.HTTP_1_0);
        this.head = m.equals(HttpMethod.HEAD);
        this.idempotent = m.equals(HttpMethod.GET) || head || m.equals(HttpMethod.OPTIONS) || m.equals(HttpMethod.PUT)
                || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
        this.contentLength = HttpUtil.getContentLength(request, -1L);
        this.hasBody = contentLength > 0 || HttpUtil.isTransferEncodingChunked(request);
        HttpHeaders h = request.headers();
        String asked = !hasBody && h.contains(HttpHeaderNames.UPGRADE)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                ? h.get(HttpHeaderNames.UPGRADE) : null;
        // h2c is about this hop (the client and Sluice), never passed to a server: the request is served in
        // HTTP/1.1 without it, which RFC 9113 allows.
        this.upgrade = asked != null && asked.trim().equalsIgnoreCase("h2c") ? null : asked;
        this.grpc = Grpc.isGrpc(h);
        this.teTrailers = grpc && h.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
    }

    static ClientRequest of(HttpRequest request) {
        return new ClientRequest().read(request);
    }

    /**
     * This object made over for {@code request}: for an exchange serving its connection's next request
     * ({@link Exchange#next}), once nothing reads the previous one.
     */
    ClientRequest read(HttpRequest request) {
        String uri = request.uri();
        int scheme = uri.startsWith("/") ? -1 : uri.indexOf("://");
        if (scheme <= 0) {
            fill(request, request.headers().get(HttpHeaderNames.HOST), uri, false);
            return this;
        }
        // Absolute form: the authority is the host; servers get the origin form.
        int slash = uri.indexOf('/', scheme + 3);
        fill(request, uri.substring(scheme + 3, slash < 0 ? uri.length() : slash),
                slash < 0 ? "/" : uri.substring(slash), true);
        return this;
    }

    HttpMethod method() {
        return request.method();
    }

    /**
     * The exchange is over and reads the request no more: a head read into its connection's reused
     * {@link PlainRequest} goes back to be refilled, an HTTP/2 stream's {@link Http2Request} to be reused.
     */
    void finished() {
        if (request instanceof PlainRequest p) {
            p.giveBack();
        } else if (request instanceof Http2Request r) {
            r.giveBack();
        }
    }
}
