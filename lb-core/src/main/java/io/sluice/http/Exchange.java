package io.sluice.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.cluster.Server;
import io.sluice.net.LoopTime;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * One request and its response as the client sees them: the head routed and rewritten, the body passed on
 * within its limit, the server's answer (through the {@link Forwarder}) rewritten and streamed to the
 * {@link Downstream}, or an answer of Sluice's own. Its {@link ExchangePhase phase} says where it stands, and
 * {@link #to} is the only place that changes it. Lives on the client's event loop, like the server connections
 * it borrows, so nothing here needs a lock.
 *
 * <p>An HTTP/1.1 connection serves its requests one after another; {@link #next} serves the next one in the same
 * object, with its forwarder and attempt, when the previous exchange is over and nothing outside can still call
 * it ({@link #reusable}); else it makes a new one.
 */
final class Exchange {
    /** Bodies up to this size of idempotent requests are kept until the response begins, to be sent again. */
    static final int REPLAY_LIMIT = ReplayBody.LIMIT;

    private final ExchangeContext ctx;
    private final Downstream downstream;
    private ClientRequest req;
    private long startNanos = LoopTime.nanoTime();
    private ExchangePhase phase = ExchangePhase.HEAD;
    private boolean requestComplete;
    private Route route;
    /** Null until the head passed its checks. */
    private Forwarder forwarder;
    /** The previous request's forwarder, for this one to reuse. */
    private Forwarder spareForwarder;
    private long bodyBytes;
    private long responseBytes;
    private int status;
    private boolean serverReusable;
    /** gRPC: the deadline from grpc-timeout, while it runs. */
    private ScheduledFuture<?> deadline;
    /** gRPC: the status the response head carried (trailers-only), or its HTTP status stood for; else null. */
    private GrpcStatus headGrpcStatus;
    private boolean grpcCounted;

    Exchange(ExchangeContext ctx, Downstream downstream, HttpRequest request) {
        this.ctx = ctx;
        this.downstream = downstream;
        this.req = ClientRequest.of(request);
    }

    /**
     * The exchange for {@code request}, the next one of a connection whose previous exchange was
     * {@code previous} (null for the first): that object again when {@link #reusable}, else a new one.
     */
    static Exchange next(Exchange previous, ExchangeContext ctx, Downstream downstream, HttpRequest request) {
        return previous != null && previous.reusable() && previous.ctx == ctx && previous.downstream == downstream
                ? previous.reuse(request) : new Exchange(ctx, downstream, request);
    }

    /**
     * Over, and nothing outside refers to it: no timer (the gRPC deadline is cancelled at every end) and a
     * forwarder that is {@link Forwarder#reusable} (or none).
     */
    boolean reusable() {
        return phase == ExchangePhase.DONE && deadline == null
                && (forwarder == null || forwarder.reusable());
    }

    private Exchange reuse(HttpRequest request) {
        req = req.read(request);
        startNanos = LoopTime.nanoTime();
        phase = ExchangePhase.HEAD;
        requestComplete = false;
        route = null;
        spareForwarder = forwarder != null ? forwarder : spareForwarder;
        forwarder = null;
        bodyBytes = 0;
        responseBytes = 0;
        status = 0;
        serverReusable = false;
        headGrpcStatus = null;
        grpcCounted = false;
        return this;
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
        if (next == ExchangePhase.DONE) {
            req.finished();
        }
    }

    /** Routes and rewrites the head, then forwards it. The downstream looks at the phase after. */
    void begin() {
        route = ctx.listener.routes().match(req);
        if (!req.keepAlive) {
            downstream.closeAfterResponse();
        }
        long wait = ctx.listener.clientLimits().request(clientAddress());
        if (wait > 0) {
            limited(wait);
            return;
        }
        if (ctx.http.redirectHttps()) {
            redirectToHttps();
            return;
        }
        long max = route.maxBodySize();
        if (max > 0 && req.contentLength > max) {
            answer(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + max + " bytes",
                    ErrorReason.TOO_LARGE);
            return;
        }
        if (req.grpc && !startDeadline()) {
            return;
        }
        RequestRewrite.toServer(req, route.config(), route.rewrite(req.originUri), downstream.clientIp(),
                downstream.clientIpv6(), ctx.http, ctx.secure, ctx.trustedClient);
        Forwarder spare = spareForwarder;
        spareForwarder = null;
        forwarder = spare != null ? spare.reset(req, route.upstream(), downstream.alloc())
                : new Forwarder(ctx, this, req, route.upstream(), downstream.alloc());
        to(ExchangePhase.UPSTREAM);
        forwarder.start();
    }

    /**
     * A gRPC call's grpc-timeout is its deadline over the whole call, from now; response_timeout still bounds the
     * wait for the response head, so the smaller of the two wins. False when the header is malformed (answered).
     */
    private boolean startDeadline() {
        long nanos = GrpcTimeout.parse(req.request.headers().get(Grpc.GRPC_TIMEOUT));
        if (nanos == GrpcTimeout.MALFORMED) {
            ctx.listener.httpStats().count(ErrorReason.BAD_REQUEST);
            respond(HttpResponseStatus.BAD_REQUEST, "malformed grpc-timeout", null, null,
                    GrpcStatus.INVALID_ARGUMENT);
            return false;
        }
        if (nanos >= 0) {
            deadline = ctx.loop.schedule(this::deadlineExpired, nanos, TimeUnit.NANOSECONDS);
        }
        return true;
    }

    /**
     * Before the response head the client gets DEADLINE_EXCEEDED from Sluice; after, the stream is cut, which
     * cancels the call on both sides. Not a failure of the server: the client chose the deadline.
     */
    private void deadlineExpired() {
        deadline = null;
        if (phase.over()) {
            return;
        }
        if (phase.canAnswer()) {
            answer(HttpResponseStatus.GATEWAY_TIMEOUT, "deadline (grpc-timeout) exceeded before the server answered",
                    ErrorReason.TIMEOUT);
        } else {
            ctx.listener.httpStats().count(ErrorReason.TIMEOUT);
            countGrpc(GrpcStatus.DEADLINE_EXCEEDED);
            cut("deadline (grpc-timeout) exceeded");
        }
        settle();
    }

    // The request body, from the downstream.

    /** Whether request parts can be given now; until then they wait in the downstream. */
    boolean acceptsContent() {
        return phase == ExchangePhase.ANSWERED || (forwarder != null && forwarder.connected());
    }

    /** Whether more of the request should be read: it has somewhere to go. */
    boolean wantsBody() {
        return phase == ExchangePhase.ANSWERED || (forwarder != null && forwarder.isWritable());
    }

    void onRequestContent(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            badRequestBody(HttpResponseStatus.BAD_REQUEST, "malformed request body", ErrorReason.BAD_REQUEST);
            return;
        }
        bodyBytes += c.content().readableBytes();
        long max = route.maxBodySize();
        if (max > 0 && bodyBytes > max) {
            c.release();
            badRequestBody(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + max + " bytes",
                    ErrorReason.TOO_LARGE);
            return;
        }
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestComplete = true;
        }
        if (phase == ExchangePhase.ANSWERED) {
            c.release();
            if (last) {
                finish();
            }
            return;
        }
        forwarder.sendBody(c, bodyBytes, last);
    }

    /** The request body broke a rule after the head was accepted: answer if still possible; close in any case. */
    private void badRequestBody(HttpResponseStatus st, String text, ErrorReason reason) {
        downstream.closeAfterResponse();
        if (phase.canAnswer()) {
            answer(st, text, reason);
        } else {
            ctx.listener.httpStats().count(reason);
            countGrpc(GrpcStatus.forReason(reason));
            cut(text);
        }
    }

    void flushUpstream() {
        if (forwarder != null) {
            forwarder.flush();
        }
    }

    void onClientWritable() {
        if (phase == ExchangePhase.RESPONSE || phase == ExchangePhase.SWITCHING) {
            forwarder.read();
        }
    }

    /** From the connection's response timer, armed when the request was sent. */
    void responseTimedOut() {
        if (forwarder != null) {
            forwarder.responseTimedOut();
        }
    }

    /** The client connection closed. */
    void clientClosed() {
        if (phase.over()) {
            return;
        }
        if (phase != ExchangePhase.ANSWERED) {
            ctx.listener.httpStats().count(ErrorReason.CLIENT_CLOSED);
            countGrpc(GrpcStatus.CANCELLED);
        }
        endForwarding(false);
        to(ExchangePhase.DONE);
    }

    // The server's answer, sorted by the forwarder.

    void onInterimHead(HttpResponse r) {
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
    }

    void onInterimPart(HttpContent c, boolean last) {
        if (req.http10) {
            c.release();
        } else {
            downstream.write(c);
        }
        if (last) {
            to(ExchangePhase.UPSTREAM);
        }
    }

    /** A new attempt after a reset: whatever interim response the old one began is over. */
    void retrying() {
        if (phase == ExchangePhase.INFORMATIONAL) {
            to(ExchangePhase.UPSTREAM);
        }
    }

    void onSwitchingHead(HttpResponse r) {
        status = r.status().code();
        to(ExchangePhase.SWITCHING);
        ResponseRewrite.switching(r);
        downstream.write(r);
        if (r instanceof LastHttpContent) {
            becomeTunnel(null);
        }
    }

    void onSwitchingPart(HttpContent c, boolean last) {
        if (last) {
            becomeTunnel((LastHttpContent) c);
        } else {
            c.release();
        }
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
        Server server = forwarder.server();
        downstream.becomeTunnel(forwarder.detach(), server);
    }

    /** A final head; {@code setCookie} pins the client to the server that answered, when needed. */
    void onFinalHead(HttpResponse r, String setCookie) {
        to(ExchangePhase.RESPONSE);
        status = r.status().code();
        ResponseRewrite.Plan plan = ResponseRewrite.finalHead(r, req, downstream.closesAfterResponse(), ctx.http,
                route.config(), setCookie, ctx.hsts);
        serverReusable = plan.serverReusable();
        if (req.grpc) {
            GrpcStatus s = GrpcStatus.in(r.headers());
            headGrpcStatus = s != null ? s : status == 200 ? null : GrpcStatus.forHttpStatus(status);
        }
        if (plan.closeAfter()) {
            downstream.closeAfterResponse();
        }
        if (!(r instanceof HttpContent)) {
            downstream.write(r);
        }
    }

    void onBody(HttpContent c, boolean last) {
        responseBytes += c.content().readableBytes();
        if (!last) {
            downstream.write(c);
            return;
        }
        if (req.grpc) {
            // The trailers (kept from frames to objects and back) carry the status; a trailers-only
            // response had it in the head.
            GrpcStatus s = GrpcStatus.in(((LastHttpContent) c).trailingHeaders());
            countGrpc(s != null ? s : headGrpcStatus != null ? headGrpcStatus : GrpcStatus.UNKNOWN);
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

    /** The rest of the response body can be spliced to the client ({@link SplicedBody}): whether the client takes it. */
    boolean spliceBody(SplicedBody.Source body) {
        return phase == ExchangePhase.RESPONSE && downstream.spliceBody(body);
    }

    /** Whether the client connection splices bodies at all: only then is a server's read batch worth cutting short. */
    boolean splicesBodies() {
        return downstream.splicesBodies();
    }

    /** {@code bytes} of the body went to the client by splice, past {@link #onBody}. */
    void bodySpliced(int bytes) {
        responseBytes += bytes;
    }

    /** After the server's read batch: true when more of the response should be read. */
    boolean flushToClient() {
        downstream.flush();
        return !phase.over() && downstream.isWritable();
    }

    void serverWritable() {
        if (!requestComplete) {
            downstream.readMore();
        }
    }

    /** After an event of the server side or a timer: the downstream hears what changed. */
    void settle() {
        if (phase == ExchangePhase.DONE) {
            downstream.exchangeDone(this);
        } else if (phase != ExchangePhase.TUNNEL) {
            downstream.readMore();
        }
    }

    // Outcomes.

    /** Answers from Sluice itself (errors), while no response head went to the client. */
    void answer(HttpResponseStatus st, String text, ErrorReason reason) {
        ctx.listener.httpStats().count(reason);
        endForwarding(false);
        respond(st, text, null, null, req.grpc ? GrpcStatus.forReason(reason) : null);
    }

    private InetAddress clientAddress() {
        InetSocketAddress a = ctx.attempts.context().source();
        return a == null ? null : a.getAddress();
    }

    /**
     * Over {@code requests_per_second_per_ip}: 429 with Retry-After (whole seconds, rounded up), or for a gRPC
     * client RESOURCE_EXHAUSTED; the connection stays open.
     */
    private void limited(long waitNanos) {
        ctx.listener.httpStats().count(ErrorReason.LIMITED);
        long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
        respond(HttpResponseStatus.TOO_MANY_REQUESTS, "too many requests from this client",
                HttpHeaderNames.RETRY_AFTER, Long.toString(seconds),
                req.grpc ? GrpcStatus.forReason(ErrorReason.LIMITED) : null);
    }

    /** A plain listener with redirect_https: every request is sent to the same place over https, unforwarded. */
    private void redirectToHttps() {
        String location = HttpsRedirect.location(req);
        if (location == null) {
            answer(HttpResponseStatus.BAD_REQUEST, "no Host to redirect to https", ErrorReason.BAD_REQUEST);
            return;
        }
        respond(HttpResponseStatus.MOVED_PERMANENTLY, "moved to " + location, HttpHeaderNames.LOCATION, location,
                null);
    }

    /**
     * {@code grpcStatus}: the answer is that gRPC error instead (HTTP 200, trailers-only), when not null;
     * {@code header}: one more header (Location, Retry-After), when not null.
     */
    private void respond(HttpResponseStatus st, String text, CharSequence header, String value,
                         GrpcStatus grpcStatus) {
        status = grpcStatus != null ? 200 : st.code();
        // Unread request body cannot be skipped safely without reading it all: close instead.
        boolean close = downstream.closesAfterResponse() || (req.hasBody && !requestComplete);
        if (close) {
            downstream.closeAfterResponse();
        }
        FullHttpResponse resp = grpcStatus != null ? ErrorResponses.grpc(grpcStatus, text, close)
                : ErrorResponses.plain(downstream.alloc(), st, text, close);
        if (grpcStatus != null) {
            countGrpc(grpcStatus);
        }
        if (header != null) {
            resp.headers().set(header, value);
        }
        ResponseRewrite.addHsts(resp.headers(), ctx.hsts);
        responseBytes = resp.content().readableBytes();
        downstream.writeLast(resp);
        countResponse();
        // Else the rest of the request (just its end, queued while a connection was awaited) is to be dropped.
        to(requestComplete || close ? ExchangePhase.DONE : ExchangePhase.ANSWERED);
    }

    /** The server's response broke off after it began: the client sees it truncated. */
    void broken(String text) {
        ctx.listener.httpStats().count(ErrorReason.BROKEN_RESPONSE);
        countGrpc(GrpcStatus.UNAVAILABLE);
        countResponse();
        cut(text);
    }

    /** An HTTP/2 server reset the stream after the response began: the client's stream is reset with that code. */
    void serverReset(String text, long http2ErrorCode) {
        ctx.listener.httpStats().count(ErrorReason.BROKEN_RESPONSE);
        countResponse();
        endForwarding(false);
        to(ExchangePhase.DONE);
        downstream.reset(text, http2ErrorCode);
    }

    /** The response (or the request's end after an answer of Sluice's own) is complete. */
    private void finish() {
        endForwarding(serverReusable);
        to(ExchangePhase.DONE);
    }

    /** Something is broken beyond a clean answer: the client sees a truncated response. */
    private void cut(String why) {
        endForwarding(false);
        to(ExchangePhase.DONE);
        downstream.abort(why);
    }

    private void endForwarding(boolean reusable) {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        if (forwarder != null) {
            forwarder.end(reusable);
        }
    }

    /** An HTTP/2 request is carried as an HTTP/1.1 object inside Sluice; the log says what the client spoke. */
    private String clientVersion() {
        return downstream.protocol() == HttpProtocol.HTTP2 ? "HTTP/2.0" : req.clientVersion.text();
    }

    /** A gRPC call's final status, once (the metric counts calls). */
    private void countGrpc(GrpcStatus s) {
        if (req.grpc && !grpcCounted && route != null) {
            grpcCounted = true;
            route.upstream().grpcCodes().count(s);
        }
    }

    private void countResponse() {
        long nanos = LoopTime.nanoTime() - startNanos;
        route.countResponse(downstream.protocol(), status);
        route.upstream().durations().record(nanos);
        AccessLog accessLog = ctx.listener.accessLog();
        if (accessLog != null) {
            String clientIp = downstream.clientIp();
            Server server = forwarder == null ? null : forwarder.server();
            accessLog.add(new AccessLog.Entry(System.currentTimeMillis(), clientIp == null ? "-" : clientIp,
                    req.method().name(), req.clientUri, clientVersion(), status, responseBytes, nanos,
                    route.name(), route.clusterName(), server == null ? null : server.label(),
                    req.request.headers().get(HeaderPolicy.X_REQUEST_ID),
                    req.request.headers().get(HttpHeaderNames.HOST)));
        }
    }
}
