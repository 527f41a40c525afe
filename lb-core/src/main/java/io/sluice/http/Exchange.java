package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.balance.PickContext;
import io.sluice.config.StickyCookieConfig;
import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request and its response: routing, the borrowed backend connection, and the two body streams. Lives on
 * the client's event loop, like the backend connection it borrows, so nothing here needs a lock.
 */
final class Exchange implements BackendPool.Waiter {
    private static final Logger log = LoggerFactory.getLogger(Exchange.class);
    /** Bodies up to this size of idempotent requests are kept until the response begins, to be sent again. */
    static final int REPLAY_LIMIT = 64 * 1024;

    private final HttpFrontHandler front;
    private final Channel client;
    private final HttpRequest request;
    private final long startNanos = System.nanoTime();
    /** As the client sent them, for the access log (the request is rewritten before forwarding). */
    private String clientUri;
    private HttpVersion clientVersion;
    private long responseBytes;
    private Route route;
    private Upstream upstream;
    private Server server;
    /** This request's count in the server's load, held from send to the response's end. */
    private Lease requestLease;
    private BackendPool pool;
    private BackendConnection conn;
    private PickContext retryPick;
    /** The sticky cookie's value as the client sent it (null when absent or stickiness is off). */
    private String stickyValue;
    private int attempts;
    private int resends;
    private boolean waitingForConnection;

    private boolean keepAlive;
    private boolean clientHttp10;
    private boolean head;
    /** The client asked to switch protocols (WebSocket): a 101 turns both connections into a byte tunnel. */
    private boolean upgrade;
    private boolean switching;
    private boolean hasBody;
    private long bodyBytes;
    /**
     * A copy of the body so far, while it may still have to be sent again (see {@link #REPLAY_LIMIT}); else
     * null. A copy, not views of the pieces: views would keep every read buffer they came from alive.
     */
    private ByteBuf replay;

    boolean requestDone;
    private boolean requestSent;
    private boolean responseStarted;
    private boolean responseDone;
    private boolean informational;
    private boolean swallowInformational;
    /** The answer came from Sluice, not from a server; the rest of the request body is dropped. */
    private boolean local;
    private boolean backendReusable;
    private boolean finished;
    private int status;
    private ChannelFuture lastWrite;
    private long sentNanos;
    private ScheduledFuture<?> poolTimer;

    Exchange(HttpFrontHandler front, HttpRequest request) {
        this.front = front;
        this.client = front.client;
        this.request = request;
    }

    void begin() {
        clientUri = request.uri();
        clientVersion = request.protocolVersion();
        route = front.listener.routes().match(request);
        upstream = route.upstream();
        keepAlive = HttpUtil.isKeepAlive(request);
        clientHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        head = request.method().equals(HttpMethod.HEAD);
        long length = HttpUtil.getContentLength(request, -1L); // -1: none, or chunked
        hasBody = length > 0 || HttpUtil.isTransferEncodingChunked(request);
        if (!keepAlive) {
            front.closeAfterResponse = true;
        }
        long max = route.maxBodySize();
        if (max > 0 && length > max) {
            respond(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body larger than " + max + " bytes",
                    ErrorReason.TOO_LARGE);
            return;
        }
        prepareRequest();
        if (hasBody && idempotent() && front.http.retries() > 0 && length <= REPLAY_LIMIT) {
            replay = client.alloc().buffer(length < 0 ? 1024 : (int) length, REPLAY_LIMIT);
        }
        front.listener.retryBudget().request();
        pickAndAcquire();
    }

    private void prepareRequest() {
        HttpHeaders h = request.headers();
        String host = h.get(HttpHeaderNames.HOST);
        String uri = request.uri();
        int scheme = uri.indexOf("://");
        if (!uri.startsWith("/") && scheme > 0) {
            // Absolute form: the authority is the host; servers get the origin form.
            int slash = uri.indexOf('/', scheme + 3);
            host = uri.substring(scheme + 3, slash < 0 ? uri.length() : slash);
            h.set(HttpHeaderNames.HOST, host);
            uri = slash < 0 ? "/" : uri.substring(slash);
        }
        String upgradeTo = upgradeRequested(h) ? h.get(HttpHeaderNames.UPGRADE) : null;
        HeaderPolicy.removeHopByHop(h);
        if (upgradeTo != null) {
            upgrade = true;
            h.set(HttpHeaderNames.UPGRADE, upgradeTo);
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        HeaderPolicy.forwardRequest(request, front.clientIp, front.clientIpv6, host, front.http);
        if (route.config() != null) {
            HeaderPolicy.apply(route.config().requestHeaders(), h);
        }
        request.setUri(route.rewrite(uri));
        // The server connection is ours and kept alive whatever the client speaks.
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** A bodiless GET with Upgrade named in Connection (RFC 9110 7.8); anything else is not upgraded. */
    private boolean upgradeRequested(HttpHeaders h) {
        return !hasBody && request.method().equals(HttpMethod.GET) && h.contains(HttpHeaderNames.UPGRADE)
                && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    private void pickAndAcquire() {
        if (retryPick == null && upstream.cluster().hashKey() != null) {
            // Per request: set from the cluster's hash_key, or cleared so the fallback algorithm places it.
            upstream.cluster().hashKey().apply(front.pick, request);
        }
        StickyCookieConfig sticky = upstream.cluster().config().stickyCookie();
        Server pinned = null;
        if (sticky != null && retryPick == null) {
            stickyValue = StickyCookies.value(request, sticky.name());
            pinned = upstream.cluster().stickyServer(stickyValue);
        }
        server = pinned != null ? pinned : upstream.cluster().pick(retryPick != null ? retryPick : front.pick);
        if (server == null) {
            if (resends > 0) {
                respond(HttpResponseStatus.BAD_GATEWAY, "the server closed the connection before responding",
                        ErrorReason.BACKEND_RESET);
            } else if (attempts > 0) {
                respond(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server", ErrorReason.CONNECT_FAILED);
            } else {
                front.listener.stats().countNoServer();
                respond(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server available", ErrorReason.NO_SERVER);
            }
            return;
        }
        attempts++;
        pool = upstream.pool(server, client.eventLoop());
        waitingForConnection = true;
        if (pool.acquire(this)) {
            // Every connection of the pool is busy: wait, but not longer than a connect would take.
            long nanos = upstream.cluster().config().connectTimeout().toNanos();
            poolTimer = client.eventLoop().schedule(this::poolWaitExpired, nanos, TimeUnit.NANOSECONDS);
        }
    }

    private void poolWaitExpired() {
        poolTimer = null;
        if (waitingForConnection && !finished) {
            pool.cancel(this);
            waitingForConnection = false;
            respond(HttpResponseStatus.SERVICE_UNAVAILABLE, "no connection to a server came free in time",
                    ErrorReason.POOL_EXHAUSTED);
        }
    }

    private void cancelPoolTimer() {
        if (poolTimer != null) {
            poolTimer.cancel(false);
            poolTimer = null;
        }
    }

    @Override
    public void ready(BackendConnection c) {
        waitingForConnection = false;
        cancelPoolTimer();
        if (finished || front.current != this) {
            c.pool.release(c, true);
            return;
        }
        conn = c;
        c.exchange = this;
        requestLease = server.beginRequest();
        Channel backend = c.channel;
        if (!request.headers().contains(HttpHeaderNames.HOST)) {
            // An HTTP/1.0 client may omit Host, but the request goes on as HTTP/1.1, which requires one.
            request.headers().set(HttpHeaderNames.HOST, server.label());
        }
        backend.write(request, backend.voidPromise());
        if (requestDone) {
            // A resend: the kept body (if any) and the end are all that is left to write.
            if (replay != null && replay.isReadable()) {
                backend.write(new DefaultHttpContent(replay.retainedDuplicate()), backend.voidPromise());
            }
            backend.write(LastHttpContent.EMPTY_LAST_CONTENT, backend.voidPromise());
            requestSent = true;
            armResponseTimer();
        }
        front.process();
        backend.flush();
        backend.read();
        front.maybeRead();
    }

    @Override
    public void failed(Throwable cause) {
        waitingForConnection = false;
        cancelPoolTimer();
        if (finished || front.current != this) {
            return;
        }
        log.debug("connect to {} failed: {}", server, cause.toString());
        if (retryPick == null) {
            retryPick = new PickContext(front.pick.source());
            if (front.pick.hasHash()) {
                retryPick.hash(front.pick.hash()); // a hashing picker walks on to the key's next server
            }
        }
        retryPick.markTried(server);
        if (attempts <= upstream.cluster().config().connectRetries()) {
            pickAndAcquire();
        } else {
            respond(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server", ErrorReason.CONNECT_FAILED);
        }
    }

    boolean acceptsContent() {
        return conn != null || local;
    }

    boolean wantsBody() {
        return local || (conn != null && conn.channel.isWritable());
    }

    void onRequestContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
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
        if (local || conn == null) {
            c.release();
        } else {
            keepForReplay(c, last);
            server.bytesSent().add(c.content().readableBytes());
            conn.channel.write(c, conn.channel.voidPromise());
        }
        if (last) {
            requestDone = true;
            if (!local && conn != null) {
                requestSent = true;
                armResponseTimer();
            }
            if (responseDone) {
                finish();
            }
        }
    }

    /** The request body broke a rule after the head was accepted: answer if possible, in any case close. */
    private void badRequestBody(HttpResponseStatus status, String text, ErrorReason reason) {
        front.closeAfterResponse = true;
        if (!responseStarted) {
            respond(status, text, reason);
        } else {
            front.listener.httpStats().count(reason);
            finished = true;
            dropBackend();
            front.abort(text);
        }
    }

    void flushToBackend() {
        if (conn != null) {
            conn.channel.flush();
        }
    }

    void onBackendWritable() {
        if (!requestDone) {
            front.maybeRead();
        }
    }

    void onClientWritable() {
        if (conn != null && responseStarted && !responseDone) {
            conn.channel.read();
        }
    }

    void onBackendReadComplete() {
        client.flush();
        if (conn != null && !responseDone && client.isWritable()) {
            conn.channel.read();
        }
    }

    private void armResponseTimer() {
        sentNanos = System.nanoTime();
        long nanos = front.http.responseTimeout().toNanos();
        if (nanos > 0 && !responseStarted) {
            front.responseTimer.arm(nanos);
        }
    }

    private void cancelResponseTimer() {
        front.responseTimer.disarm();
    }

    void responseTimedOut() {
        if (!finished && !responseStarted && requestSent) {
            respond(HttpResponseStatus.GATEWAY_TIMEOUT, "the server did not respond in time", ErrorReason.TIMEOUT);
        }
    }

    void onResponse(Object msg) {
        if (finished) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            if (r.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                backendFailed(ErrorReason.BAD_RESPONSE, "invalid response from the server");
                return;
            }
            int code = r.status().code();
            if (code == 101) {
                if (!upgrade || !requestDone) {
                    ReferenceCountUtil.release(msg);
                    backendFailed(ErrorReason.BAD_RESPONSE, "101 from the server to a request that did not ask for it");
                    return;
                }
                cancelResponseTimer();
                responseStarted = true;
                switching = true;
                status = code;
                String protocol = r.headers().get(HttpHeaderNames.UPGRADE);
                HeaderPolicy.removeHopByHop(r.headers());
                if (protocol != null) {
                    r.headers().set(HttpHeaderNames.UPGRADE, protocol);
                }
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
                front.encoder.headRequest = false;
                client.write(r);
                if (msg instanceof LastHttpContent last) {
                    becomeTunnel(null);
                }
                return;
            }
            if (code < 200) {
                informational = true;
                if (clientHttp10) {
                    // HTTP/1.0 has no interim responses (RFC 9110 15.2): keep waiting for the final one.
                    swallowInformational = true;
                    ReferenceCountUtil.release(msg);
                    return;
                }
                HeaderPolicy.removeHopByHop(r.headers());
                r.setProtocolVersion(HttpVersion.HTTP_1_1);
                front.encoder.headRequest = head;
                client.write(r);
                return;
            }
            cancelResponseTimer();
            if (requestSent) {
                long took = System.nanoTime() - sentNanos;
                upstream.firstByte().record(took);
                server.latency().record(took); // least_response_time's sample
            }
            // 5xx feeds outlier detection when the cluster counts them; anything else ends a failure run.
            upstream.cluster().reportResponse(server, code);
            responseStarted = true;
            releaseReplay(); // no resend once a response began
            status = code;
            prepareResponse(r);
            front.encoder.headRequest = head;
            if (!(msg instanceof HttpContent)) {
                client.write(r);
                return;
            }
        }
        if (msg instanceof HttpContent c) {
            if (c.decoderResult().isFailure()) {
                c.release();
                backendFailed(ErrorReason.BROKEN_RESPONSE, "response from the server broke off");
                return;
            }
            boolean last = c instanceof LastHttpContent;
            if (switching) {
                if (last) {
                    becomeTunnel((LastHttpContent) c);
                } else {
                    c.release();
                }
                return;
            }
            if (informational) {
                informational = !last;
                if (swallowInformational) {
                    swallowInformational = !last;
                    c.release();
                } else {
                    client.write(c);
                }
                return;
            }
            if (!responseStarted) {
                c.release();
                backendFailed(ErrorReason.BAD_RESPONSE, "response body before a response head");
                return;
            }
            server.bytesReceived().add(c.content().readableBytes());
            responseBytes += c.content().readableBytes();
            if (!last) {
                client.write(c);
                return;
            }
            responseDone = true;
            lastWrite = client.writeAndFlush(c);
            countResponse();
            if (!requestDone) {
                // The server answered before the whole body arrived: neither connection can carry on cleanly.
                backendReusable = false;
                front.closeAfterResponse = true;
            }
            finish();
        } else if (!(msg instanceof HttpResponse)) {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * After a 101 both connections carry the new protocol: the HTTP handlers leave both pipelines and the L4
     * relay takes over. The order matters: encoders go first, so that bytes the decoders still hold (and pass
     * on as they are removed) are written raw.
     */
    private void becomeTunnel(LastHttpContent last) {
        if (last != null) {
            client.write(last);
        }
        countResponse();
        finished = true;
        BackendConnection c = conn;
        conn = null;
        requestLease.close();
        c.pool.detach(c);
        Channel backend = c.channel;
        backend.config().setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
        front.becomeTunnel();
        io.sluice.l4.Tunnel.install(client, backend, server.bytesSent(), server.bytesReceived());
        backend.pipeline().remove("backend");
        backend.pipeline().remove("codec");
        front.removeHttpHandlers();
        io.sluice.l4.Tunnel.start(client, backend);
    }

    private void prepareResponse(HttpResponse r) {
        HttpHeaders h = r.headers();
        boolean serverKeepAlive = HttpUtil.isKeepAlive(r);
        HeaderPolicy.removeHopByHop(h);
        if (front.http.via()) {
            HeaderPolicy.appendVia(h, r.protocolVersion());
        }
        if (route.config() != null) {
            HeaderPolicy.apply(route.config().responseHeaders(), h);
        }
        StickyCookieConfig sticky = upstream.cluster().config().stickyCookie();
        if (sticky != null && !server.stickyId().equals(stickyValue)) {
            // New client, or its server left: pin it to the one that answered.
            h.add(HttpHeaderNames.SET_COOKIE, StickyCookies.encode(sticky, server.stickyId()));
        }
        boolean bodyless = head || status == 204 || status == 304;
        boolean chunked = HttpUtil.isTransferEncodingChunked(r);
        boolean closeDelimited = !bodyless && !chunked && !h.contains(HttpHeaderNames.CONTENT_LENGTH);
        backendReusable = serverKeepAlive && !closeDelimited;
        if (closeDelimited) {
            // The server ends the body by closing; a 1.1 client gets it chunked instead and may keep its connection.
            if (clientHttp10) {
                front.closeAfterResponse = true;
            } else {
                HttpUtil.setTransferEncodingChunked(r, true);
            }
        } else if (chunked && clientHttp10) {
            // HTTP/1.0 has no chunked coding: send the body raw and end it by closing.
            h.remove(HttpHeaderNames.TRANSFER_ENCODING);
            front.closeAfterResponse = true;
        }
        if (front.closeAfterResponse) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (clientHttp10) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /** The server connection failed mid-exchange. Before the response began, answer 502; after, cut the client. */
    private void backendFailed(ErrorReason reason, String text) {
        if (!responseStarted && reason == ErrorReason.BACKEND_RESET && mayResend()) {
            resend();
            return;
        }
        if (!responseStarted) {
            respond(HttpResponseStatus.BAD_GATEWAY, text, reason);
            return;
        }
        front.listener.httpStats().count(ErrorReason.BROKEN_RESPONSE);
        log.debug("response from {} broke off: {}", server, text);
        countResponse();
        finished = true;
        releaseReplay();
        cancelResponseTimer();
        dropBackend();
        front.abort(text);
    }

    /**
     * Only when nothing of the response was seen, the method is idempotent, and the body (if any) was small
     * enough to be kept: bodies are streamed, and only up to {@link #REPLAY_LIMIT} is held for a second try.
     */
    private boolean mayResend() {
        return idempotent() && (!hasBody || replay != null) && requestDone && resends < front.http.retries()
                && front.listener.retryBudget().tryRetry();
    }

    private boolean idempotent() {
        HttpMethod m = request.method();
        return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS)
                || m.equals(HttpMethod.PUT) || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
    }

    /** Copies a body piece while the body is small enough to send again; trailers are not kept. */
    private void keepForReplay(HttpContent c, boolean last) {
        if (replay == null) {
            return;
        }
        if (bodyBytes > REPLAY_LIMIT || (last && !((LastHttpContent) c).trailingHeaders().isEmpty())) {
            releaseReplay();
            return;
        }
        ByteBuf piece = c.content();
        replay.writeBytes(piece, piece.readerIndex(), piece.readableBytes());
    }

    private void releaseReplay() {
        if (replay != null) {
            replay.release();
            replay = null;
        }
    }

    private void resend() {
        resends++;
        BackendConnection failed = conn;
        log.debug("resending {} {} after {} closed before responding", request.method(), request.uri(), server);
        cancelResponseTimer();
        requestSent = false;
        // A reused connection may simply have been closed by the server as it went idle: that says nothing
        // about the server, which may be tried again on a fresh connection. Otherwise try another server.
        if (failed == null || !failed.reused()) {
            if (retryPick == null) {
                retryPick = new PickContext(front.pick.source());
            if (front.pick.hasHash()) {
                retryPick.hash(front.pick.hash()); // a hashing picker walks on to the key's next server
            }
            }
            retryPick.markTried(server);
        }
        dropBackend();
        pickAndAcquire();
    }

    void onBackendClosed(BackendConnection c) {
        if (finished || c != conn) {
            return;
        }
        backendFailed(ErrorReason.BACKEND_RESET, "the server closed the connection before responding");
    }

    /** Answers from Sluice itself (errors). */
    private void respond(HttpResponseStatus st, String text, ErrorReason reason) {
        if (responseStarted) {
            backendFailed(reason, text);
            return;
        }
        front.listener.httpStats().count(reason);
        releaseReplay();
        cancelResponseTimer();
        dropBackend();
        responseStarted = true;
        responseDone = true;
        local = true;
        status = st.code();
        // Unread request body cannot be skipped safely without reading it all: close instead.
        boolean close = front.closeAfterResponse || (hasBody && !requestDone);
        if (close) {
            front.closeAfterResponse = true;
        }
        front.encoder.headRequest = head;
        FullHttpResponse resp = ErrorResponses.plain(client.alloc(), st, text, close);
        responseBytes = resp.content().readableBytes();
        lastWrite = client.writeAndFlush(resp);
        countResponse();
        if (requestDone || close) {
            finish();
        } else {
            // The rest of the request (often just its end, queued while a connection was awaited) is now to be
            // dropped: take it from the queue, or read it.
            front.process();
            front.maybeRead();
        }
    }

    private void countResponse() {
        long nanos = System.nanoTime() - startNanos;
        route.countResponse(status);
        upstream.durations().record(nanos);
        AccessLog accessLog = front.listener.accessLog();
        if (accessLog != null) {
            accessLog.add(new AccessLog.Entry(System.currentTimeMillis(),
                    front.clientIp == null ? "-" : front.clientIp, request.method().name(), clientUri,
                    clientVersion.text(), status, responseBytes, nanos, route.name(), route.clusterName(),
                    server == null ? null : server.label(), request.headers().get(HeaderPolicy.X_REQUEST_ID),
                    request.headers().get(HttpHeaderNames.HOST)));
        }
    }

    /** Gives the backend connection back (reusable only after a clean exchange) and tells the front. */
    private void finish() {
        finished = true;
        releaseReplay();
        cancelResponseTimer();
        if (conn != null) {
            BackendConnection c = conn;
            conn = null;
            requestLease.close();
            c.pool.release(c, backendReusable && requestSent && responseDone);
        }
        front.exchangeDone(this, lastWrite);
    }

    /** Closes the backend connection: its state is unknown. */
    private void dropBackend() {
        if (conn != null) {
            BackendConnection c = conn;
            conn = null;
            requestLease.close();
            c.pool.release(c, false);
        } else if (waitingForConnection) {
            waitingForConnection = false;
            cancelPoolTimer();
            pool.cancel(this);
        }
    }

    void clientClosed() {
        if (finished) {
            return;
        }
        if (!responseDone) {
            front.listener.httpStats().count(ErrorReason.CLIENT_CLOSED);
        }
        finished = true;
        releaseReplay();
        cancelResponseTimer();
        dropBackend();
    }
}
