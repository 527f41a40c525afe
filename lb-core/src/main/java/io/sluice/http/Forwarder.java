package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.uring.SluiceSockets;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterQueue;
import io.sluice.cluster.Server;
import io.sluice.cluster.Slot;
import io.sluice.config.StickyCookieConfig;
import io.sluice.net.BatchedReads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets an exchange's request to a server and the server's answer back to the exchange (Envoy's router filter):
 * places the request (sticky pin, hash, picker, connect_retries), makes the attempts ({@link UpstreamRequest}),
 * sends it again after a reset when that is safe, times the response, and sorts what the server sends into
 * heads and body parts for the {@link Exchange}, which decides what the client sees.
 *
 * <p>An exchange reuses its forwarder for the next request of its connection ({@link #reset}) once it is over
 * and nothing outside can call it any more ({@link #reusable}: it never queued for a slot, and its attempt is
 * reusable too).
 */
final class Forwarder {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

    private final ExchangeContext ctx;
    private final Exchange exchange;
    private ClientRequest req;
    private Upstream upstream;
    /** The current attempt, or the last one; null before the first and when no server could be picked. */
    private UpstreamRequest attempt;
    /** The previous request's last attempt, for this one's first to reuse. */
    private UpstreamRequest spare;
    /** {@link #end} was called. */
    private boolean ended;
    /** A waiter in the cluster's queue was made: it may call back whatever happened since. */
    private boolean everQueued;
    /** Null unless the body may have to be sent again. */
    private ReplayBody replay;
    /** The sticky cookie's value as the client sent it (null when absent or stickiness is off). */
    private String stickyValue;
    private int resends;
    /** Resends after a reused connection failed before any response byte: see {@link #staleConnection}. */
    private int staleResends;
    private int refusals;
    /** The sticky cookie's server when the last pick found it at its max_connections. */
    private Server pinnedFull;
    /** Set while the request waits in the cluster's queue. */
    private ClusterQueue.Waiter queued;
    /** The response's Content-Length, else -1 (chunked, or until a final head came). */
    private long bodyLength = -1;
    /** Body bytes of the response read so far, through the decoder or spliced. */
    private long bodySeen;
    /** The rest of the body is being spliced to the client ({@link SplicedBody}); else null. */
    private ServerBody spliced;
    /** Streams an HTTP/2 server refused unprocessed, sent again for one request at most. */
    static final int MAX_REFUSALS = 3;
    /**
     * Dead keep-alive connections one request may meet in a row before its resends count: a server that crashed
     * leaves all its idle connections dead, and their resets may not have been read yet.
     */
    static final int MAX_STALE_RESENDS = 4;

    Forwarder(ExchangeContext ctx, Exchange exchange, ClientRequest req, Upstream upstream, ByteBufAllocator alloc) {
        this.ctx = ctx;
        this.exchange = exchange;
        init(req, upstream, alloc);
    }

    /** Over, and nothing outside refers to it or its attempt: {@link #reset} may take the next request. */
    boolean reusable() {
        return ended && !everQueued && (attempt == null || attempt.reusable());
    }

    /** The next request of the same exchange object; only when {@link #reusable}. */
    Forwarder reset(ClientRequest nextReq, Upstream nextUpstream, ByteBufAllocator alloc) {
        if (!reusable()) {
            throw new IllegalStateException("forwarder in use");
        }
        spare = attempt;
        attempt = null;
        stickyValue = null;
        resends = 0;
        staleResends = 0;
        refusals = 0;
        pinnedFull = null;
        ended = false;
        init(nextReq, nextUpstream, alloc);
        return this;
    }

    private void init(ClientRequest req, Upstream upstream, ByteBufAllocator alloc) {
        this.req = req;
        this.upstream = upstream;
        bodyLength = -1;
        // An HTTP/2 server may refuse a stream unprocessed (GOAWAY): that request goes again whatever its method.
        boolean resendable = req.idempotent || upstream.cluster().config().protocol().http2();
        if (req.hasBody && resendable && ctx.http.retries() > 0 && req.contentLength <= ReplayBody.LIMIT) {
            replay = new ReplayBody(alloc, req.contentLength);
        }
    }

    /** Places the request; hash and cookie are read from it as forwarded (the route's header rules applied). */
    void start() {
        ctx.listener.retryBudget().request();
        Cluster cluster = upstream.cluster();
        ctx.attempts.begin(cluster);
        if (cluster.hashKey() != null) {
            cluster.hashKey().apply(ctx.attempts.context(), req.request);
        }
        StickyCookieConfig sticky = cluster.config().stickyCookie();
        if (sticky != null) {
            stickyValue = StickyCookies.value(req.request, sticky.name());
        }
        place();
    }

    /**
     * Picks a server and asks its pool for a connection. A connect that fails at once moves on to the next
     * server here, as connect_retries allows; one that fails later comes back through {@link #connectFailedLater}.
     */
    private void place() {
        for (;;) {
            Server server = pick();
            if (server == null) {
                attempt = null;
                if (pinnedFull != null || ctx.attempts.sawFull()) {
                    waitForSlot();
                } else {
                    noServer();
                }
                return;
            }
            if (!tryServer(server, ctx.attempts.takeSlot())) {
                return;
            }
        }
    }

    /** An attempt at {@code server}, holding its {@code slot}; true when the next server should be tried. */
    private boolean tryServer(Server server, Slot slot) {
        long maxWait = upstream.cluster().config().connectTimeout().toNanos();
        ConnectionPool pool = ctx.pools.pool(upstream, server, ctx.loop);
        UpstreamRequest last = attempt != null ? attempt : spare;
        spare = null;
        attempt = last != null && last.reusable() ? last.reset(server, pool, slot)
                : new UpstreamRequest(this, server, pool, slot);
        switch (attempt.acquire(ctx.loop, maxWait)) {
            case CONNECTED -> send();
            case FAILED -> {
                if (ctx.attempts.connectFailed(server)) {
                    return true;
                }
                exchange.answer(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server",
                        ErrorReason.CONNECT_FAILED);
            }
            case REFUSED -> exchange.answer(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "too many requests waiting for a connection to the server", ErrorReason.POOL_FULL);
            default -> {
            }
        }
        return false;
    }

    /**
     * Every server the request may go to is at its max_connections: it waits in the cluster's queue (for its
     * sticky server alone when the cookie pins it to a full one), and gets 503 when the queue is full or its
     * timeout passes.
     */
    private void waitForSlot() {
        ClusterQueue queue = upstream.cluster().queue();
        ClusterQueue.Waiter w = new ClusterQueue.Waiter(ctx.loop, pinnedFull) {
            @Override
            protected void granted(Slot slot) {
                if (queued != this || exchange.phase().over()) {
                    slot.close();
                    return;
                }
                queued = null;
                if (tryServer(ctx.attempts.granted(slot), slot)) {
                    place();
                }
                exchange.settle();
            }

            @Override
            protected void timedOut() {
                queued = null;
                exchange.answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server came free in time",
                        ErrorReason.QUEUE_TIMEOUT);
                exchange.settle();
            }
        };
        everQueued = true;
        if (queue.enqueue(w)) {
            queued = w;
        } else {
            exchange.answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "every server is busy and the queue is full",
                    ErrorReason.QUEUE_FULL);
        }
    }

    /** The sticky cookie's server while no server was given up on for this request, else the picker's choice. */
    private Server pick() {
        pinnedFull = null;
        if (stickyValue != null && ctx.attempts.context().attempt() == 0) {
            Server pinned = upstream.cluster().stickyServer(stickyValue);
            if (pinned != null) {
                Server s = ctx.attempts.pinned(pinned);
                if (s == null) {
                    pinnedFull = pinned; // the session waits for its server (HAProxy's persistence)
                }
                return s;
            }
        }
        return ctx.attempts.next();
    }

    private void noServer() {
        if (resends + staleResends > 0) {
            exchange.answer(HttpResponseStatus.BAD_GATEWAY, "the server closed the connection before responding",
                    ErrorReason.BACKEND_RESET);
        } else if (ctx.attempts.connects() > 0) {
            exchange.answer(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server",
                    ErrorReason.CONNECT_FAILED);
        } else {
            ctx.listener.stats().countNoServer();
            exchange.answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "no server available", ErrorReason.NO_SERVER);
        }
    }

    /** The attempt has its connection: the head goes, and on a resend what was kept of the body and the end. */
    private void send() {
        RequestRewrite.ensureHost(req.request, attempt.server.label());
        attempt.write(req.request);
        if (exchange.requestComplete()) {
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
        if (nanos > 0 && !exchange.phase().responseBegun()) {
            ctx.responseTimer.arm(nanos);
        }
    }

    // For the exchange.

    /** The server of the current (or last) attempt; null when none was picked. */
    Server server() {
        return attempt == null ? null : attempt.server;
    }

    boolean connected() {
        return attempt != null && attempt.connected();
    }

    boolean isWritable() {
        return attempt != null && attempt.isWritable();
    }

    /** A part of the request body, {@code bodyBytes} being the body's size with it; only while connected. */
    void sendBody(HttpContent c, long bodyBytes, boolean last) {
        if (replay != null && !replay.keep(c, bodyBytes, last)) {
            replay = null;
        }
        int bytes = c.content().readableBytes();
        if (bytes > 0) { // a bodiless request's empty end is most requests: no locked add of nothing
            attempt.server.bytesSent().add(bytes);
        }
        attempt.write(c);
        if (last) {
            requestSent();
        }
    }

    void flush() {
        if (attempt != null) {
            attempt.flush();
        }
    }

    /** The client can take more of the response. */
    void read() {
        readOn();
    }

    /** Reads more of the response: splices its body's rest when it is worth it, else asks the server's channel. */
    private void readOn() {
        if (spliced != null) {
            return; // the splice takes from the socket, and hands reading back when it stops
        }
        if (!spliceRest()) {
            attempt.read();
        }
    }

    /**
     * Hands the rest of a large Content-Length body to the client connection to splice, when it can (a raw
     * HTTP/1.1 client connection, {@link SplicedBody}) and the server connection is a plain io_uring socket whose
     * decoder holds nothing and that Netty is not reading. Between read batches.
     */
    private boolean spliceRest() {
        if (bodyLength < 0 || bodyLength - bodySeen < SplicedBody.AFTER || exchange.phase() != ExchangePhase.RESPONSE
                || !attempt.connected()) {
            return false;
        }
        Channel ch = attempt.channel();
        if (!SplicedBody.possible(ch) || ch.pipeline().get(SslHandler.class) != null || SluiceSockets.reads(ch)) {
            return false;
        }
        BackendCodec codec = ch.pipeline().get(BackendCodec.class);
        if (codec == null || codec.decoder().holdsBytes()) {
            return false;
        }
        long left = bodyLength - bodySeen;
        ServerBody body = new ServerBody(attempt, ch, codec.decoder(), left);
        if (!exchange.spliceBody(body)) {
            return false;
        }
        codec.decoder().takeBody(left);
        spliced = body;
        return true;
    }

    /**
     * Every byte of the spliced body left the server's socket, some maybe still in the pipe: the response is whole
     * on the server's side now, not once the client has taken them. The server may close its connection next, and
     * that must not read as a response broken off.
     */
    private void splicedAll(ServerBody body) {
        if (spliced != body) {
            return;
        }
        spliced = null;
        if (exchange.phase() == ExchangePhase.RESPONSE && attempt.connected()) {
            onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** The splice stopped with its pipe empty: the body is in, or the server's channel reads the rest. */
    private void spliceEnded(ServerBody body) {
        if (spliced != body) {
            return;
        }
        spliced = null;
        if (exchange.phase() != ExchangePhase.RESPONSE || !attempt.connected()) {
            return;
        }
        if (body.remaining() == 0) {
            onResponse(LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (exchange.flushToClient()) {
            attempt.read();
        }
    }

    /** The server's side of one spliced body; dead once the forwarder ended or the splice did. */
    private final class ServerBody implements SplicedBody.Source {
        private final UpstreamRequest attempt;
        private final Channel channel;
        private final BackendCodec.ResponseDecoder decoder;
        private final int fd;
        /** What the decoder has left when only the splice took from the body. */
        private long left;

        ServerBody(UpstreamRequest attempt, Channel channel, BackendCodec.ResponseDecoder decoder, long left) {
            this.attempt = attempt;
            this.channel = channel;
            this.decoder = decoder;
            this.fd = ((UnixChannel) channel).fd().intValue();
            this.left = left;
        }

        @Override
        public int fd() {
            return fd;
        }

        @Override
        public boolean spliceable() {
            // An open channel keeps its descriptor: the number cannot be another socket's yet. Once Netty has read
            // any of the body (queued behind the pipe), the socket's later bytes must follow it, not the pipe.
            return spliced == this && attempt.connected() && channel.isOpen() && left > 0
                    && decoder.bodyLeft() == left && !SluiceSockets.reads(channel);
        }

        @Override
        public long remaining() {
            return decoder.bodyLeft();
        }

        @Override
        public void moved(int bytes) {
            left -= bytes;
            decoder.bodyTaken(bytes);
            bodySeen += bytes;
            attempt.bodyReceived(bytes);
            exchange.bodySpliced(bytes);
        }

        @Override
        public void allTaken() {
            splicedAll(this);
        }

        @Override
        public void ended() {
            spliceEnded(this);
        }
    }

    /** Done with servers: the kept body and the timer go, the connection goes back (reusable after a clean end). */
    void end(boolean reusable) {
        ended = true;
        spliced = null;
        releaseReplay();
        ctx.responseTimer.disarm();
        if (queued != null) {
            upstream.cluster().queue().cancel(queued);
            queued = null;
        }
        if (attempt != null) {
            attempt.end(reusable && attempt.sent());
        }
    }

    /** For a tunnel after a 101. */
    BackendConnection detach() {
        return attempt.detach();
    }

    void responseTimedOut() {
        if (exchange.phase().canAnswer() && attempt != null && attempt.sent()) {
            attempt.server.recordFailure();
            exchange.answer(HttpResponseStatus.GATEWAY_TIMEOUT, "the server did not respond in time",
                    ErrorReason.TIMEOUT);
            exchange.settle();
        }
    }

    // Events of the current attempt; each ends by letting the exchange settle what changed.

    void connectedLater(UpstreamRequest a) {
        assert a == attempt;
        send();
        exchange.settle();
    }

    void connectFailedLater(UpstreamRequest a) {
        assert a == attempt;
        if (ctx.attempts.connectFailed(a.server)) {
            place();
        } else {
            exchange.answer(HttpResponseStatus.BAD_GATEWAY, "could not connect to a server",
                    ErrorReason.CONNECT_FAILED);
        }
        exchange.settle();
    }

    void poolWaitExpired(UpstreamRequest a) {
        assert a == attempt;
        exchange.answer(HttpResponseStatus.SERVICE_UNAVAILABLE, "no connection to a server came free in time",
                ErrorReason.POOL_EXHAUSTED);
        exchange.settle();
    }

    void onResponse(Object msg) {
        if (exchange.phase().over()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            onHead(r);
        } else if (msg instanceof HttpContent c) {
            onPart(c);
        } else {
            ReferenceCountUtil.release(msg);
        }
        if (exchange.phase() == ExchangePhase.DONE || exchange.phase() == ExchangePhase.ANSWERED) {
            exchange.settle();
        }
    }

    private void onHead(HttpResponse r) {
        if (r.decoderResult().isFailure()) {
            ReferenceCountUtil.release(r);
            serverFailed(ErrorReason.BAD_RESPONSE, "invalid response from the server");
            return;
        }
        int code = r.status().code();
        ExchangePhase phase = exchange.phase();
        if (code == 101) {
            if (req.upgrade == null || !exchange.requestComplete() || phase != ExchangePhase.UPSTREAM) {
                ReferenceCountUtil.release(r);
                serverFailed(ErrorReason.BAD_RESPONSE, "101 from the server to a request that did not ask for it");
                return;
            }
            ctx.responseTimer.disarm();
            exchange.onSwitchingHead(r);
            return;
        }
        if (code < 200) {
            exchange.onInterimHead(r);
            return;
        }
        if (phase != ExchangePhase.UPSTREAM) {
            ReferenceCountUtil.release(r);
            serverFailed(ErrorReason.BAD_RESPONSE, "response head before the end of an interim response");
            return;
        }
        ctx.responseTimer.disarm();
        attempt.recordResponse(upstream, code);
        // 5xx feeds outlier detection when the cluster counts them; anything else ends a failure run.
        upstream.cluster().reportResponse(attempt.server, code);
        releaseReplay(); // no resend once a response began
        bodyLength = r instanceof HttpContent ? -1 : contentLength(r);
        bodySeen = 0;
        if (bodyLength >= SplicedBody.AFTER && exchange.splicesBodies() && SplicedBody.possible(attempt.channel())) {
            // A body that may be spliced: no more of it into buffers than this read brought (elsewhere the batch
            // goes on: ending it would only cost read round trips).
            BatchedReads.endBatch();
        }
        exchange.onFinalHead(r, stickyCookie());
        if (r instanceof HttpContent c) {
            onPart(c);
        }
    }

    /** A response's Content-Length when it has one and is not chunked, else -1. */
    private static long contentLength(HttpResponse r) {
        if (HttpUtil.isTransferEncodingChunked(r)) {
            return -1;
        }
        try {
            return HttpUtil.getContentLength(r, -1L);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** A cookie pinning the client to the server that answered, when it is new or its server left; else null. */
    private String stickyCookie() {
        StickyCookieConfig sticky = upstream.cluster().config().stickyCookie();
        Server server = attempt.server;
        return sticky != null && !server.stickyId().equals(stickyValue)
                ? StickyCookies.encode(sticky, server.stickyId()) : null;
    }

    private void onPart(HttpContent c) {
        if (c.decoderResult().isFailure()) {
            c.release();
            serverFailed(ErrorReason.BROKEN_RESPONSE, "response from the server broke off");
            return;
        }
        boolean last = c instanceof LastHttpContent;
        switch (exchange.phase()) {
            case SWITCHING -> exchange.onSwitchingPart(c, last);
            case INFORMATIONAL -> exchange.onInterimPart(c, last);
            case RESPONSE -> {
                int bytes = c.content().readableBytes();
                bodySeen += bytes;
                attempt.bodyReceived(bytes);
                exchange.onBody(c, last);
            }
            default -> {
                c.release();
                serverFailed(ErrorReason.BAD_RESPONSE, "response body before a response head");
            }
        }
    }

    void onReadComplete() {
        if (exchange.flushToClient()) {
            readOn();
        }
    }

    void onWritable() {
        exchange.serverWritable();
    }

    void onClosed() {
        if (exchange.phase().over()) {
            return;
        }
        long code = attempt.resetCode();
        if (attempt.refused() && mayResendRefused()) {
            resendRefused();
        } else if (attempt.failedLocally()) {
            localFailure();
        } else if (code != BackendConnection.NO_RESET && !exchange.phase().canAnswer()) {
            attempt.server.recordFailure();
            exchange.serverReset("the server reset the stream (HTTP/2 error " + code + ")", code);
        } else {
            serverFailed(ErrorReason.BACKEND_RESET, code == BackendConnection.NO_RESET
                    ? "the server closed the connection before responding"
                    : "the server reset the stream before responding (HTTP/2 error " + code + ")");
        }
        exchange.settle();
    }

    /** The request could not be written as HTTP/2 (Netty refused its headers or trailers): the server is not to blame. */
    private void localFailure() {
        String text = "the request could not be sent to the server as HTTP/2";
        if (exchange.phase().canAnswer()) {
            exchange.answer(HttpResponseStatus.BAD_GATEWAY, text, ErrorReason.BACKEND_RESET);
        } else {
            exchange.broken(text);
        }
    }

    /**
     * The server says it did not process the request (RFC 9113 8.7): safe to send again whatever the method,
     * when nothing of a response was seen and the body, if any, was kept. Not a failure of the server, and
     * not a retry of the request's {@code retries} or the retry budget: nothing was done twice.
     */
    private boolean mayResendRefused() {
        return exchange.phase() == ExchangePhase.UPSTREAM && (!req.hasBody || replay != null)
                && exchange.requestComplete() && refusals < MAX_REFUSALS;
    }

    private void resendRefused() {
        refusals++;
        UpstreamRequest refused = attempt;
        log.debug("resending {} {}: {} refused the stream unprocessed", req.method(), req.request.uri(),
                refused.server);
        ctx.responseTimer.disarm();
        refused.end(false);
        place();
    }

    /**
     * The server connection failed mid-exchange. Before the response began: send again if allowed (only a reset,
     * and see {@link #mayResend}), else answer 502. After: the client is cut off.
     */
    private void serverFailed(ErrorReason reason, String text) {
        attempt.server.recordFailure();
        if (!exchange.phase().canAnswer()) {
            log.debug("response from {} broke off: {}", attempt.server, text);
            exchange.broken(text);
        } else if (reason == ErrorReason.BACKEND_RESET && mayResend()) {
            resend();
        } else {
            exchange.answer(HttpResponseStatus.BAD_GATEWAY, text, reason);
        }
    }

    /**
     * Only when nothing of the response was seen, the method is idempotent, and the body (if any) was small
     * enough to be kept: bodies are streamed, and only up to {@link ReplayBody#LIMIT} is held for a second try.
     */
    private boolean mayResend() {
        if (!req.idempotent || (req.hasBody && replay == null) || !exchange.requestComplete()) {
            return false;
        }
        return staleConnection() || resends < ctx.http.retries() && ctx.listener.retryBudget().tryRetry();
    }

    /**
     * The attempt failed on a reused connection before any response byte: the keep-alive race (the server closed
     * it as it went idle, or died and left it dead), which says nothing about the request or the server's health.
     * As HTTP clients do (Go's Transport, for one), such a resend uses neither {@code retries} nor the retry
     * budget, up to {@link #MAX_STALE_RESENDS} in a row; without it a killed server's second dead connection
     * costs a GET its only retry.
     */
    private boolean staleConnection() {
        return attempt.reused() && staleResends < MAX_STALE_RESENDS;
    }

    private void resend() {
        if (staleConnection()) {
            staleResends++;
            ctx.listener.retryBudget().resentOutsideBudget();
        } else {
            resends++;
        }
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
        exchange.retrying();
        place();
    }

    private void releaseReplay() {
        if (replay != null) {
            replay.release();
            replay = null;
        }
    }
}
