package io.sluice.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.config.StickyCookieConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request and its response, as the client sees them (Envoy's router filter): routing, the attempts at
 * servers ({@link UpstreamRequest}), the request body on its way out and the response on its way back. Its
 * {@link ExchangePhase phase} says where it stands; {@link #to} is the only place that changes it. Lives on
 * the client's event loop, like the server connections it borrows, so nothing here needs a lock.
 */
final class Exchange {
    private static final Logger log = LoggerFactory.getLogger(Exchange.class);
    /** Bodies up to this size of idempotent requests are kept until the response begins, to be sent again. */
    static final int REPLAY_LIMIT = ReplayBody.LIMIT;

    private final ExchangeContext ctx;
    private final Downstream downstream;
    private final ClientRequest req;
    private final long startNanos = System.nanoTime();
    private ExchangePhase phase = ExchangePhase.HEAD;
    private boolean requestComplete;
    private Route route;
    private Upstream upstream;
    /** The current attempt, or the last one; null before the first and when no server could be picked. */
    private UpstreamRequest attempt;
    /** Null unless the body may have to be sent again. */
    private ReplayBody replay;
    /** The sticky cookie's value as the client sent it (null when absent or stickiness is off). */
    private String stickyValue;
    private int resends;
    private long bodyBytes;
    private long responseBytes;
    private int status;
    private boolean serverReusable;

    Exchange(ExchangeContext ctx, Downstream downstream, HttpRequest request) {
        this.ctx = ctx;
        this.downstream = downstream;
        this.req = ClientRequest.of(request);
    }

    ExchangePhase phase() {
        return phase;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    private void to(ExchangePhase next) {
        if (!phase.canBecome(next)) {
            throw new IllegalStateException("exchange phase " + phase + " cannot become " + next);
        }
        phase = next;
    }

    /** Routes and rewrites the head, then places the first attempt. The downstream looks at the phase after. */
    void begin() {
        route = ctx.listener.routes().match(req);
        upstream = route.upstream();
        if (!req.keepAlive) {
            downstream.closeAfterResponse();
        }
        long max = route.maxBodySize();
        if (max > 0 && req.contentLength > max) {
            respond(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + max + " bytes",
                    ErrorReason.TOO_LARGE);
            return;
        }
        RequestRewrite.toServer(req, route.config(), route.rewrite(req.originUri), downstream.clientIp(),
                downstream.clientIpv6(), ctx.http);
        if (req.hasBody && req.idempotent && ctx.http.retries() > 0 && req.contentLength <= REPLAY_LIMIT) {
            replay = new ReplayBody(downstream.alloc(), req.contentLength);
        }
        ctx.listener.retryBudget().request();
        // Hash and cookie are read from the request as forwarded (the route's header rules applied).
        Cluster cluster = upstream.cluster();
        ctx.attempts.begin(cluster);
        if (cluster.hashKey() != null) {
            cluster.hashKey().apply(ctx.attempts.context(), req.request);
        }
        StickyCookieConfig sticky = cluster.config().stickyCookie();
        if (sticky != null) {
            stickyValue = StickyCookies.value(req.request, sticky.name());
        }
        to(ExchangePhase.UPSTREAM);
        place();
    }

    /**
     * Picks a server and asks its pool for a connection. A connect that fails at once moves on to the next
     * server here, as connect_retries allows; one that fails later comes back through {@link #connectFailedLater}.
     */
    private void place() {
        long maxWait = upstream.cluster().config().connectTimeout().toNanos();
        for (;;) {
            Server server = pick();
            if (server == null) {
                attempt = null;
                noServer();
                return;
            }
            attempt = new UpstreamRequest(this, server, ctx.pools.pool(upstream, server, ctx.loop));
            switch (attempt.acquire(ctx.loop, maxWait)) {
                case CONNECTED -> {
                    send();
                    return;
                }
                case FAILED -> {
                    if (!ctx.attempts.connectFailed(server)) {
                        respond(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server",
                                ErrorReason.CONNECT_FAILED);
                        return;
                    }
                }
                default -> {
                    return;
                }
            }
        }
    }

    /** The sticky cookie's server while no server was given up on for this request, else the picker's choice. */
    private Server pick() {
        if (stickyValue != null && ctx.attempts.context().attempt() == 0) {
            Server pinned = upstream.cluster().stickyServer(stickyValue);
            if (pinned != null) {
                return ctx.attempts.pinned(pinned);
            }
        }
        return ctx.attempts.next();
    }

    private void noServer() {
        if (resends > 0) {
            respond(HttpResponseStatus.BAD_GATEWAY, "the server closed the connection before responding",
                    ErrorReason.BACKEND_RESET);
        } else if (ctx.attempts.connects() > 0) {
            respond(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server", ErrorReason.CONNECT_FAILED);
        } else {
            ctx.listener.stats().countNoServer();
            respond(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server available", ErrorReason.NO_SERVER);
        }
    }

    /** The attempt has its connection: the head goes, and on a resend what was kept of the body and the end. */
    private void send() {
        RequestRewrite.ensureHost(req.request, attempt.server.label());
        attempt.write(req.request);
        if (requestComplete) {
            HttpContent kept = replay == null ? null : replay.again();
            if (kept != null) {
                attempt.write(kept);
            }
            attempt.write(LastHttpContent.EMPTY_LAST_CONTENT);
            requestSent();
        }
        attempt.read();
    }

    private void requestSent() {
        attempt.markSent();
        long nanos = ctx.http.responseTimeout().toNanos();
        if (nanos > 0 && !phase.responseBegun()) {
            ctx.responseTimer.arm(nanos);
        }
    }

    // Request body, from the downstream.

    /** Whether request parts can be given now; until then they wait in the downstream. */
    boolean acceptsContent() {
        return phase == ExchangePhase.ANSWERED || (attempt != null && attempt.connected());
    }

    /** Whether more of the request should be read: it has somewhere to go. */
    boolean wantsBody() {
        return phase == ExchangePhase.ANSWERED || (attempt != null && attempt.isWritable());
    }

    void onRequestContent(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            badRequestBody(HttpResponseStatus.BAD_REQUEST, "malformed request body", ErrorReason.BAD_REQUEST);
            return;
        }
        int n = c.content().readableBytes();
        bodyBytes += n;
        long max = route.maxBodySize();
        if (max > 0 && bodyBytes > max) {
            c.release();
            badRequestBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + max + " bytes",
                    ErrorReason.TOO_LARGE);
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (phase == ExchangePhase.ANSWERED) {
            c.release();
            if (last) {
                requestComplete = true;
                finish();
            }
            return;
        }
        if (replay != null && !replay.keep(c, bodyBytes, last)) {
            replay = null;
        }
        attempt.server.bytesSent().add(n);
        attempt.write(c);
        if (last) {
            requestComplete = true;
            requestSent();
        }
    }

    /** The request body broke a rule after the head was accepted: answer if still possible; close in any case. */
    private void badRequestBody(HttpResponseStatus st, String text, ErrorReason reason) {
        downstream.closeAfterResponse();
        if (phase.canAnswer()) {
            respond(st, text, reason);
        } else {
            ctx.listener.httpStats().count(reason);
            cut(text);
        }
    }

    void flushUpstream() {
        if (attempt != null) {
            attempt.flush();
        }
    }

    void onClientWritable() {
        if (phase == ExchangePhase.RESPONSE || phase == ExchangePhase.SWITCHING) {
            attempt.read();
        }
    }

    /** The client connection closed. */
    void clientClosed() {
        if (phase.over()) {
            return;
        }
        if (phase != ExchangePhase.ANSWERED) {
            ctx.listener.httpStats().count(ErrorReason.CLIENT_CLOSED);
        }
        releaseUpstream(false);
        to(ExchangePhase.DONE);
    }

    // Events of the server side and timers: each ends by telling the downstream what changed (settle).

    void connectedLater(UpstreamRequest a) {
        assert a == attempt;
        send();
        settle();
    }

    void connectFailedLater(UpstreamRequest a) {
        assert a == attempt;
        if (ctx.attempts.connectFailed(a.server)) {
            place();
        } else {
            respond(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server", ErrorReason.CONNECT_FAILED);
        }
        settle();
    }

    void poolWaitExpired(UpstreamRequest a) {
        assert a == attempt;
        respond(HttpResponseStatus.SERVICE_UNAVAILABLE, "no connection to a server came free in time",
                ErrorReason.POOL_EXHAUSTED);
        settle();
    }

    /** From the connection's response timer, armed when the request was sent. */
    void responseTimedOut() {
        if (phase.canAnswer() && attempt != null && attempt.sent()) {
            respond(HttpResponseStatus.GATEWAY_TIMEOUT, "the server did not respond in time", ErrorReason.TIMEOUT);
            settle();
        }
    }

    void onResponse(Object msg) {
        if (phase.over()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        boolean content = msg instanceof HttpContent;
        if (msg instanceof HttpResponse r) {
            content &= onResponseHead(r);
        } else if (!content) {
            ReferenceCountUtil.release(msg);
        }
        if (content) {
            onResponseContent((HttpContent) msg);
        }
        if (phase == ExchangePhase.DONE || phase == ExchangePhase.ANSWERED) {
            settle();
        }
    }

    /** Returns true when the message goes on to be relayed as body (a final head with content in it). */
    private boolean onResponseHead(HttpResponse r) {
        if (r.decoderResult().isFailure()) {
            ReferenceCountUtil.release(r);
            serverFailed(ErrorReason.BAD_RESPONSE, "invalid response from the server");
            return false;
        }
        int code = r.status().code();
        if (code == 101) {
            if (req.upgrade == null || !requestComplete || phase != ExchangePhase.UPSTREAM) {
                ReferenceCountUtil.release(r);
                serverFailed(ErrorReason.BAD_RESPONSE, "101 from the server to a request that did not ask for it");
                return false;
            }
            ctx.responseTimer.disarm();
            status = code;
            to(ExchangePhase.SWITCHING);
            ResponseRewrite.switching(r);
            downstream.write(r);
            if (r instanceof LastHttpContent) {
                becomeTunnel(null);
            }
            return false;
        }
        if (code < 200) {
            to(ExchangePhase.INFORMATIONAL);
            if (req.http10) {
                ReferenceCountUtil.release(r); // HTTP/1.0 has no interim responses (RFC 9110 15.2): wait on
            } else {
                ResponseRewrite.informational(r);
                downstream.write(r);
            }
            if (r instanceof LastHttpContent) {
                to(ExchangePhase.UPSTREAM);
            }
            return false;
        }
        if (phase != ExchangePhase.UPSTREAM) {
            ReferenceCountUtil.release(r);
            serverFailed(ErrorReason.BAD_RESPONSE, "response head before the end of an interim response");
            return false;
        }
        ctx.responseTimer.disarm();
        attempt.recordFirstByte(upstream);
        Server server = attempt.server;
        // 5xx feeds outlier detection when the cluster counts them; anything else ends a failure run.
        upstream.cluster().reportResponse(server, code);
        to(ExchangePhase.RESPONSE);
        releaseReplay(); // no resend once a response began
        status = code;
        StickyCookieConfig sticky = upstream.cluster().config().stickyCookie();
        // New client, or its server left: pin it to the one that answered.
        String setCookie = sticky != null && !server.stickyId().equals(stickyValue)
                ? StickyCookies.encode(sticky, server.stickyId()) : null;
        ResponseRewrite.Plan plan = ResponseRewrite.finalHead(r, req, downstream.closesAfterResponse(), ctx.http,
                route.config(), setCookie);
        serverReusable = plan.serverReusable();
        if (plan.closeAfter()) {
            downstream.closeAfterResponse();
        }
        if (r instanceof HttpContent) {
            return true;
        }
        downstream.write(r);
        return false;
    }

    private void onResponseContent(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            serverFailed(ErrorReason.BROKEN_RESPONSE, "response from the server broke off");
            return;
        }
        boolean last = c instanceof LastHttpContent;
        switch (phase) {
            case SWITCHING -> {
                if (last) {
                    becomeTunnel((LastHttpContent) c);
                } else {
                    c.release();
                }
            }
            case INFORMATIONAL -> {
                if (req.http10) {
                    c.release();
                } else {
                    downstream.write(c);
                }
                if (last) {
                    to(ExchangePhase.UPSTREAM);
                }
            }
            case RESPONSE -> relayBody(c, last);
            default -> {
                c.release();
                serverFailed(ErrorReason.BAD_RESPONSE, "response body before a response head");
            }
        }
    }

    private void relayBody(HttpContent c, boolean last) {
        int n = c.content().readableBytes();
        attempt.server.bytesReceived().add(n);
        responseBytes += n;
        if (!last) {
            downstream.write(c);
            return;
        }
        downstream.writeLast(c);
        countResponse();
        if (!requestComplete) {
            // The server answered before the whole body arrived: neither connection can carry on cleanly.
            serverReusable = false;
            downstream.closeAfterResponse();
        }
        finish();
    }

    /**
     * After a 101 both connections carry the new protocol: the HTTP handlers leave both pipelines and the L4
     * relay takes over.
     */
    private void becomeTunnel(LastHttpContent last) {
        if (last != null) {
            downstream.write(last);
        }
        countResponse();
        to(ExchangePhase.TUNNEL);
        downstream.becomeTunnel(attempt.detach(), attempt.server);
    }

    void onBackendReadComplete() {
        downstream.flush();
        if (!phase.over() && downstream.isWritable()) {
            attempt.read();
        }
    }

    void onBackendWritable() {
        if (!requestComplete) {
            downstream.readMore();
        }
    }

    void onBackendClosed() {
        if (!phase.over()) {
            serverFailed(ErrorReason.BACKEND_RESET, "the server closed the connection before responding");
            settle();
        }
    }

    private void settle() {
        if (phase == ExchangePhase.DONE) {
            downstream.exchangeDone(this);
        } else if (phase != ExchangePhase.TUNNEL) {
            downstream.readMore();
        }
    }

    // Outcomes.

    /**
     * The server connection failed mid-exchange. Before the response began: send again if allowed (only a reset,
     * and see {@link #mayResend}), else answer 502. After: cut the client off.
     */
    void serverFailed(ErrorReason reason, String text) {
        if (phase.canAnswer()) {
            if (reason == ErrorReason.BACKEND_RESET && mayResend()) {
                resend();
            } else {
                respond(HttpResponseStatus.BAD_GATEWAY, text, reason);
            }
            return;
        }
        ctx.listener.httpStats().count(ErrorReason.BROKEN_RESPONSE);
        log.debug("response from {} broke off: {}", attempt.server, text);
        countResponse();
        cut(text);
    }

    /**
     * Only when nothing of the response was seen, the method is idempotent, and the body (if any) was small
     * enough to be kept: bodies are streamed, and only up to {@link #REPLAY_LIMIT} is held for a second try.
     */
    private boolean mayResend() {
        return req.idempotent && (!req.hasBody || replay != null) && requestComplete
                && resends < ctx.http.retries() && ctx.listener.retryBudget().tryRetry();
    }

    private void resend() {
        resends++;
        UpstreamRequest failed = attempt;
        log.debug("resending {} {} after {} closed before responding", req.method(), req.request.uri(),
                failed.server);
        ctx.responseTimer.disarm();
        // A reused connection may simply have been closed by the server as it went idle: that says nothing
        // about the server, which may be tried again on a fresh connection. Otherwise try another server.
        if (!failed.reused()) {
            ctx.attempts.avoid(failed.server);
        }
        failed.end(false);
        if (phase == ExchangePhase.INFORMATIONAL) {
            to(ExchangePhase.UPSTREAM);
        }
        place();
    }

    /** Answers from Sluice itself (errors), while no response head went to the client. */
    private void respond(HttpResponseStatus st, String text, ErrorReason reason) {
        ctx.listener.httpStats().count(reason);
        releaseUpstream(false);
        status = st.code();
        // Unread request body cannot be skipped safely without reading it all: close instead.
        boolean close = downstream.closesAfterResponse() || (req.hasBody && !requestComplete);
        if (close) {
            downstream.closeAfterResponse();
        }
        FullHttpResponse resp = ErrorResponses.plain(downstream.alloc(), st, text, close);
        responseBytes = resp.content().readableBytes();
        downstream.writeLast(resp);
        countResponse();
        // Else the rest of the request (just its end, queued while a connection was awaited) is to be dropped.
        to(requestComplete || close ? ExchangePhase.DONE : ExchangePhase.ANSWERED);
    }

    /** The response (or the request's end after an answer of Sluice's own) is complete. */
    private void finish() {
        releaseUpstream(serverReusable);
        to(ExchangePhase.DONE);
    }

    /** Something is broken beyond a clean answer: the client sees a truncated response. */
    private void cut(String why) {
        releaseUpstream(false);
        to(ExchangePhase.DONE);
        downstream.abort(why);
    }

    /** The kept body, the response timer and the attempt's connection (reusable only after a clean exchange). */
    private void releaseUpstream(boolean reusable) {
        releaseReplay();
        ctx.responseTimer.disarm();
        if (attempt != null) {
            attempt.end(reusable && attempt.sent());
        }
    }

    void releaseReplay() {
        if (replay != null) {
            replay.release();
            replay = null;
        }
    }

    void countResponse() {
        long nanos = System.nanoTime() - startNanos;
        route.countResponse(status);
        upstream.durations().record(nanos);
        AccessLog accessLog = ctx.listener.accessLog();
        if (accessLog != null) {
            String clientIp = downstream.clientIp();
            accessLog.add(new AccessLog.Entry(System.currentTimeMillis(), clientIp == null ? "-" : clientIp,
                    req.method().name(), req.clientUri, req.clientVersion.text(), status, responseBytes, nanos,
                    route.name(), route.clusterName(), attempt == null ? null : attempt.server.label(),
                    req.request.headers().get(HeaderPolicy.X_REQUEST_ID),
                    req.request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.HOST)));
        }
    }
}
