package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Server;
import io.sluice.config.HttpConfig;
import io.sluice.net.UpstreamAttempts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 stream of a client: one request, driven through an {@link Exchange} like an HTTP/1.1 request, so
 * routing, balancing (per stream), retries, timeouts, the access log and the counters are the same. A plain
 * object of its {@link Http2FrontConnection}, which hands it the stream's frames from Netty's decoder; no
 * channel or pipeline of its own. The request head is built from the HEADERS frame ({@link Http2RequestHeads}),
 * the response goes out as frames of the connection ({@link Http2ClientResponseHeads}). Event loop only.
 *
 * <p>Reading: a DATA frame's bytes are acknowledged to Netty's local flow controller (which then sends
 * WINDOW_UPDATE as its ratio says) only once the exchange took all that arrived and wants more, as an HTTP/1.1
 * connection is read only then: a stream whose server is slow keeps its window closed and the client stops sending,
 * so what Sluice holds per connection is bounded by the connection window, never by the client's will (netty#14922,
 * #15011). Bytes not acknowledged go back to the connection window when the stream closes (Netty's local flow
 * controller).
 *
 * <p>Writing: as a child channel was, a stream is unwritable while more than {@link #HIGH_WATER} bytes of its
 * DATA were handed to the encoder and not yet written (the client's windows hold them in the flow controller), and
 * writable again below {@link #LOW_WATER} when the connection's socket takes more. Its own bytes only, not the
 * connection's window: a stream the client stalls must not hold up the others (Netty's flow-controller
 * writability would count every stream's queued bytes against the connection window). Body DATA frames carry
 * a {@link CountedWrite} promise for that count; HEADERS, the response's last frame and the rest go with a void
 * promise: that the response is out, the stream hears from Netty closing it ({@link #localClosed}, {@link #closed}).
 *
 * <p>Differences from HTTP/1.1: no 101 and no tunnel (Netty's decoder refuses Upgrade and Connection headers
 * before a stream is made); "close after the response" ends the stream, not the connection; an abort is a
 * RST_STREAM; a response the client will not take (its window stays closed) for http2.stall_timeout closes
 * the connection.
 */
final class Http2StreamDownstream implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(Http2StreamDownstream.class);
    /** A child channel's default write-buffer water marks, which these streams had before. */
    static final int HIGH_WATER = WriteBufferWaterMark.DEFAULT.high();
    static final int LOW_WATER = WriteBufferWaterMark.DEFAULT.low();

    private final HttpListener listener;
    private final HttpConfig http;
    private final Http2FrontConnection connection;
    private final ChannelHandlerContext ctx;
    /** Netty's stream: its id and state. */
    private final Http2Stream stream;
    private final long stallNanos;
    private final ExchangeContext context;
    /** The connection's timers this stream uses (response, stall), handed back at its end; null after. */
    private Http2StreamTimers timers;
    private final RequestParts inbound = new RequestParts();
    private Exchange exchange;
    /** The request head came (later HEADERS are trailers). */
    private boolean headSeen;
    /** Request bytes (DATA frames, padding included) received and not yet acknowledged to the flow controller. */
    private int unacknowledged;
    /** In the connection's list of streams read during the current read. */
    boolean inReadBatch;
    /** The exchange's last response part was handed to the encoder. */
    private boolean responseEnded;
    /** A frame ending the stream (our side of it) was handed to the encoder. */
    private boolean endSent;
    /** Whether the request had all been taken when the response ended; for {@link #responseOut}. */
    private boolean requestCompleteAtEnd;
    /** The exchange is over and its response's last frame not yet out: {@link #localClosed} is awaited. */
    private boolean awaitingOut;
    private boolean closeAfterResponse;
    /** The exchange is over (or the stream is): whatever still arrives is dropped. */
    private boolean done;
    /** Netty closed the stream; it is no longer in the connection's map. */
    private boolean closed;
    /** A RST_STREAM was written: response parts still coming are dropped. */
    private boolean resetSent;
    /** The exchange is yet to hear that the stream closed (told later, outside its call): the timers wait for it. */
    private boolean clientClosedPending;
    /** Inside a call of the exchange that writes: a stream closing meanwhile must not call back into it. */
    private int inExchangeCall;
    /** An interim response head of the server was sent whole; its remaining (empty) parts are dropped. */
    private boolean skippingInterim;
    /**
     * A final response head held back until the next part or flush: followed at once by an empty end, both go
     * as one HEADERS frame ending the stream. That is what a gRPC "trailers-only" response must be (a client
     * reads grpc-status in a HEADERS frame without END_STREAM as no status at all), and it saves an empty DATA
     * frame on every bodiless response.
     */
    private HttpResponse heldHead;
    /** Body bytes handed to the encoder and not yet written; above {@link #HIGH_WATER} the stream is unwritable. */
    private int queuedBytes;
    private boolean unwritable;
    /** Counts a body DATA frame's bytes out when its write completes; made at the first. */
    private ChannelFutureListener written;
    /**
     * The frame queued last by {@link #headers} or {@link #data}, kept back so that only the final one may carry a
     * promise: HEADERS when {@link #pendingHeaders} is set, DATA when {@link #pendingData} is, none otherwise.
     */
    private Http2Headers pendingHeaders;
    private ByteBuf pendingData;
    private boolean pendingEnd;

    Http2StreamDownstream(HttpListener listener, Http2FrontConnection connection, ChannelHandlerContext ctx,
                          Http2Stream stream) {
        this.listener = listener;
        this.http = listener.config().http();
        this.connection = connection;
        this.ctx = ctx;
        this.stream = stream;
        this.stallNanos = listener.config().http2().stallTimeout().toNanos();
        this.timers = connection.timers(this);
        this.context = new ExchangeContext(listener, new UpstreamAttempts(connection.remote()), timers.response,
                connection.pools(), ctx.channel().eventLoop(), connection.remote());
    }

    int id() {
        return stream.id();
    }

    // What the connection hands on from Netty's decoder.

    void onHeaders(Http2Headers headers, boolean endStream) {
        if (done) {
            return;
        }
        try {
            if (!headSeen) {
                headSeen = true;
                inbound.add(Http2RequestHeads.request(headers, endStream));
                if (endStream) {
                    inbound.add(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            } else if (endStream) {
                HttpHeaders trailers = Http2RequestHeads.trailers(headers);
                inbound.add(new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, trailers));
            } else {
                throw new Http2RequestHeads.Malformed("a second head on one stream");
            }
        } catch (Http2RequestHeads.Malformed | IllegalArgumentException e) {
            log.debug("malformed request on {} stream {}: {}", ctx.channel(), id(), e.getMessage());
            streamError(Http2Error.PROTOCOL_ERROR);
            return;
        }
        process();
    }

    /** {@code data} is the decoder's, released after this call: what the exchange gets is retained. */
    void onData(ByteBuf data, int padding, boolean endStream) {
        if (done) {
            return; // its bytes go back to the connection's window when the stream closes
        }
        unacknowledged += data.readableBytes() + padding;
        data.retain();
        inbound.add(endStream ? new DefaultLastHttpContent(data) : new DefaultHttpContent(data));
        process();
    }

    /** The end of the connection's read (or a frame outside one): the exchange sends on what it took. */
    void readComplete() {
        Exchange ex = exchange;
        if (ex != null) {
            ex.flushUpstream();
        }
        acknowledgeIfWanted(false);
    }

    /** Netty found the client's frames on this stream malformed (or a head was): reset with {@code error}. */
    void streamError(Http2Error error) {
        done = true;
        releaseInbound();
        resetStream(error.code());
    }

    /**
     * The client has not ended this stream's request, and no response has begun (one that has, say an early
     * answer from a server that did not read the body, finishes; a stalled one meets the stall timer). Netty marks a
     * stream HALF_CLOSED_LOCAL only once the response's END_STREAM reaches its frame writer, so a response that
     * ended but waits in the flow controller is still OPEN here: it is left to {@link #responseOut} (or the stall
     * timer), which resets the stream once the answer is out.
     */
    boolean requestStillComing() {
        Exchange ex = exchange;
        return stream.state() == Http2Stream.State.OPEN && !responseEnded
                && (ex == null || !ex.phase().responseBegun());
    }

    /**
     * The client closed its side of the connection before this request's end: the request can never be whole.
     * The exchange ends now, as on a client's reset (the server connection is not reused: the server never sees
     * the request end), and the stream is reset (CANCEL); the client may not read that reset for a while.
     */
    void requestCutShort() {
        dropEverythingAndReset(Http2Error.CANCEL);
        Exchange ex = exchange;
        if (ex != null && !ex.phase().over()) {
            ex.clientClosed();
        }
    }

    /** The connection's socket takes more again: a stream below its low water mark is writable again. */
    void connectionWritable() {
        if (unwritable && queuedBytes < LOW_WATER) {
            unwritable = false;
            writabilityChanged();
        }
    }

    private void writabilityChanged() {
        if (gone()) {
            return;
        }
        if (isWritable()) {
            disarmStall();
            if (awaitingOut) {
                // The response ended and its end still waits for the client's window: progress, not the end of
                // the wait. A client that stops reading again is cut off a stall timeout from now.
                armStall();
                return;
            }
            Exchange ex = exchange;
            if (ex != null && !done) {
                ex.onClientWritable();
            }
        } else {
            armStall();
        }
    }

    /**
     * Netty closed the stream: both sides ended, a reset either way, or the connection went. An exchange still
     * going has lost its client; the timers go to the connection's next stream.
     */
    void closed() {
        if (closed) {
            return;
        }
        closed = true;
        done = true;
        heldHead = null;
        releaseInbound();
        disarmStall();
        Exchange ex = exchange;
        if (ex != null && !ex.phase().over() && !(responseEnded && ex.requestComplete())) {
            if (inExchangeCall > 0) {
                // The timers stay this stream's until the exchange heard of it: given back now, a new stream
                // would take them and the exchange's end (disarming its response timer) would disarm the new one's.
                clientClosedPending = true;
                ctx.executor().execute(() -> {
                    try {
                        ex.clientClosed();
                    } finally {
                        clientClosedPending = false;
                        giveBackTimers();
                    }
                });
                return;
            }
            ex.clientClosed();
        }
        giveBackTimers();
    }

    private void giveBackTimers() {
        Http2StreamTimers t = timers;
        if (t != null) {
            timers = null;
            connection.giveBack(t);
        }
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Closed, or closed by Netty and not yet heard of: a client's RST_STREAM closes the stream, and Netty's flow
     * controller cancels its queued DATA (whose promises fail, see {@link #written}) before the stream hears
     * {@link #closed}. Meanwhile nothing may be written (Netty refuses HEADERS on a closed stream with a
     * connection error) nor the exchange woken up: it is told of the cancel by {@link #closed}.
     */
    private boolean gone() {
        return closed || stream.state() == Http2Stream.State.CLOSED;
    }

    /** Handling this stream threw: it is reset (INTERNAL_ERROR), and whatever is still queued for it dropped. */
    void internalError() {
        dropEverythingAndReset(Http2Error.INTERNAL_ERROR);
        if (closed && !clientClosedPending) {
            giveBackTimers(); // the throw may have come from closing, before they went back
        }
    }

    /** Nothing more goes either way on this stream: what waits for it is released, and it is reset. */
    private void dropEverythingAndReset(Http2Error error) {
        done = true;
        heldHead = null;
        dropPending();
        releaseInbound();
        resetStream(error.code());
    }

    private void process() {
        inbound.process(parts);
    }

    private final RequestParts.Owner parts = new RequestParts.Owner() {
        @Override
        public Exchange current() {
            return exchange;
        }

        @Override
        public boolean stopped() {
            return done;
        }

        @Override
        public void start(HttpRequest head) {
            Http2StreamDownstream.this.start(head);
        }

        @Override
        public void took(Exchange ex) {
            retireIfDone(ex);
        }

        @Override
        public void unexpectedHead() {
            abort("a second request head on one stream");
        }
    };

    private void start(HttpRequest req) {
        RequestValidator.Refusal r = RequestValidator.check(req, http.maxHeaders());
        if (r != null) {
            listener.httpStats().count(r.status().code() == 431 ? ErrorReason.TOO_LARGE : ErrorReason.BAD_REQUEST);
            listener.httpStats().countRefused(HttpProtocol.HTTP2, r.status().code());
            log.debug("refusing request on {} stream {}: {} {}", ctx.channel(), id(), r.status().code(),
                    r.message());
            ErrorReason reason = r.status().code() == 431 ? ErrorReason.TOO_LARGE : ErrorReason.BAD_REQUEST;
            writeLast(Grpc.isGrpc(req.headers())
                    ? ErrorResponses.grpc(GrpcStatus.forReason(reason), r.message(), false)
                    : ErrorResponses.plain(ctx.alloc(), r.status(), r.message(), false));
            finished(false);
            return;
        }
        Exchange ex = new Exchange(context, this, req);
        exchange = ex;
        ex.begin();
        retireIfDone(ex);
    }

    private void retireIfDone(Exchange ex) {
        if (ex.phase() == ExchangePhase.DONE && !done) {
            finished(ex.requestComplete());
        }
    }

    /**
     * The response is written (maybe not yet sent). A request still coming is refused with RST_STREAM NO_ERROR
     * once the response is out (RFC 9113 8.1); a response the client will not take still counts as a stall.
     */
    private void finished(boolean requestComplete) {
        done = true;
        releaseInbound();
        if (timers != null) {
            timers.response.disarm();
        }
        if (closed || resetSent) {
            return;
        }
        if (!responseEnded || !endSent) {
            resetStream(Http2Error.CANCEL.code()); // no response, or one that did not end the stream
            return;
        }
        requestCompleteAtEnd = requestComplete;
        // Netty closes the stream once all its frames are written (the last one allowed by the client's window
        // and on the socket): until then, a response the client does not take counts as a stall.
        armStall();
        if (stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
            responseOut();
        } else {
            awaitingOut = true;
        }
    }

    /**
     * Netty closed our side of the stream while the client's is still open: the last frame went to the socket (a
     * stream whose request had ended closes whole when that write is done, and we hear {@link #closed}).
     */
    void localClosed() {
        if (awaitingOut) {
            responseOut();
        }
    }

    /**
     * The response's last frame is out and the client's side still open: a request still coming is refused with
     * RST_STREAM NO_ERROR. The stall timer runs on until the stream closes (the reset written).
     */
    private void responseOut() {
        awaitingOut = false;
        if (!closed && !requestCompleteAtEnd && stream.state() != Http2Stream.State.HALF_CLOSED_REMOTE) {
            resetStream(Http2Error.NO_ERROR.code());
        }
    }

    /** A frame of this stream could not be written (Netty's stream error on our side): the stream is cut. */
    void writeFailed() {
        done = true;
        heldHead = null;
        dropPending();
        resetStream(Http2Error.CANCEL.code());
    }

    // Downstream: what the exchange does to the client.

    @Override
    public void write(HttpObject part) {
        if (resetSent || gone()) {
            ReferenceCountUtil.release(part);
            return;
        }
        inExchangeCall++;
        try {
            if (send(part)) {
                writePending(false);
            }
        } finally {
            inExchangeCall--;
        }
    }

    @Override
    public void writeLast(HttpObject last) {
        if (resetSent || gone()) {
            // Not ended for the client: a cancel not yet heard of still counts as one (see closed).
            responseEnded |= closed || resetSent;
            ReferenceCountUtil.release(last);
            return;
        }
        responseEnded = true;
        inExchangeCall++;
        try {
            send(last);
            if (heldHead != null) {
                writeHead(heldHead, false);
                heldHead = null;
            }
            writePending(true);
            connection.flushFrames();
        } finally {
            inExchangeCall--;
        }
    }

    /**
     * Turns a response part into frames (the last one kept back, see {@link #pendingHeaders}); false when it made
     * none. HTTP/2 sends an interim response as one HEADERS frame, so an interim head of the server goes whole and
     * its (empty) end is dropped.
     */
    private boolean send(HttpObject part) {
        try {
            if (skippingInterim && !(part instanceof HttpResponse)) {
                if (part instanceof LastHttpContent) {
                    skippingInterim = false;
                }
                ReferenceCountUtil.release(part);
                return false;
            }
            if (part instanceof HttpResponse r) {
                if (r.status().code() < 200) {
                    skippingInterim = !(r instanceof LastHttpContent);
                    ReferenceCountUtil.release(part);
                    writeHead(r, false);
                    return true;
                }
                if (!(part instanceof HttpContent)) {
                    heldHead = r;
                    return false;
                }
                LastHttpContent last = part instanceof LastHttpContent l ? l : null;
                boolean bodiless = last != null && !last.content().isReadable() && last.trailingHeaders().isEmpty();
                writeHead(r, bodiless);
                if (bodiless) {
                    last.release();
                    return true;
                }
            } else if (heldHead != null) {
                HttpResponse head = heldHead;
                heldHead = null;
                if (part instanceof LastHttpContent last && !last.content().isReadable()) {
                    // An empty end right after the head: one HEADERS frame, or the head and the trailers.
                    HttpHeaders trailers = last.trailingHeaders();
                    writeHead(head, trailers.isEmpty());
                    if (!trailers.isEmpty()) {
                        headers(Http2ClientResponseHeads.trailers(trailers), true);
                    }
                    last.release();
                    return true;
                }
                writeHead(head, false);
            }
            body((HttpContent) part);
            return true;
        } catch (RuntimeException e) {
            // A field the client's HTTP/2 cannot carry: the response cannot be completed.
            ReferenceCountUtil.safeRelease(part);
            log.debug("response on {} stream {} cannot be sent: {}", ctx.channel(), id(), e.toString());
            dropPending();
            heldHead = null;
            done = true;
            resetStream(Http2Error.INTERNAL_ERROR.code());
            return false;
        }
    }

    private void body(HttpContent c) {
        if (c instanceof LastHttpContent last) {
            HttpHeaders trailers = last.trailingHeaders();
            Http2Headers h2Trailers = trailers.isEmpty() ? null : Http2ClientResponseHeads.trailers(trailers);
            if (last.content().isReadable() || h2Trailers == null) {
                data(last, h2Trailers == null);
            } else {
                last.release();
            }
            if (h2Trailers != null) {
                headers(h2Trailers, true);
            }
        } else if (c.content().isReadable()) {
            data(c, false);
        } else {
            c.release();
        }
    }

    private void writeHead(HttpResponse head, boolean endStream) {
        headers(Http2ClientResponseHeads.head(head), endStream);
    }

    /** Queues a HEADERS frame of this stream; the frame before it goes to the encoder now. */
    private void headers(Http2Headers h, boolean endStream) {
        writePending(false);
        pendingHeaders = h;
        pendingEnd = endStream;
        endSent |= endStream;
    }

    /**
     * Queues {@code part}'s bytes as a DATA frame of this stream; the frame before it goes to the encoder now. The
     * part itself is released: a server connection's reused response ({@link PlainResponse}) is free again once
     * its holders are gone, and only its bytes go on.
     */
    private void data(HttpContent part, boolean endStream) {
        writePending(false);
        pendingData = part.content().retain();
        part.release();
        pendingEnd = endStream;
        endSent |= endStream;
    }

    private void dropPending() {
        ByteBuf d = pendingData;
        pendingData = null;
        pendingHeaders = null;
        if (d != null) {
            d.release();
        }
    }

    /**
     * The queued frame to the encoder (dropped once the stream is reset or closed). Nothing waits on the response's last frame ({@code last}): Netty closes the
     * stream once it is out, which the stream hears ({@link #localClosed}, {@link #closed}).
     */
    private void writePending(boolean last) {
        if (resetSent || closed) {
            // A write failed while this part was being turned into frames (a head too large for the client, say):
            // the stream is reset, and Netty would still write what follows on it.
            dropPending();
            return;
        }
        Http2Headers h = pendingHeaders;
        ByteBuf d = pendingData;
        pendingHeaders = null;
        pendingData = null;
        if (h != null) {
            connection.encoder().writeHeaders(ctx, id(), h, 0, pendingEnd, connection.voidPromise());
        } else if (d != null) {
            if (last) {
                connection.encoder().writeData(ctx, id(), d, 0, pendingEnd, connection.voidPromise());
            } else {
                writeData(d, pendingEnd);
            }
        }
    }

    /** DATA before the response's last frame: its bytes are counted until written (empty ones need no promise). */
    private void writeData(ByteBuf d, boolean endStream) {
        int bytes = d.readableBytes();
        if (bytes == 0) {
            connection.encoder().writeData(ctx, id(), d, 0, endStream, connection.voidPromise());
            return;
        }
        ChannelFutureListener w = written;
        if (w == null) {
            w = written = future -> {
                queuedBytes -= ((CountedWrite) future).bytes;
                if (!gone() && ctx.channel().isWritable()) {
                    connectionWritable();
                }
            };
        }
        queuedBytes += bytes;
        CountedWrite p = new CountedWrite(ctx, bytes);
        connection.encoder().writeData(ctx, id(), d, 0, endStream, p);
        p.addListener(w);
        if (queuedBytes > HIGH_WATER && !unwritable && !p.isDone()) {
            unwritable = true;
            writabilityChanged();
        }
    }

    /** The promise of a body DATA frame, knowing its size. */
    private static final class CountedWrite extends DefaultChannelPromise {
        final int bytes;

        CountedWrite(ChannelHandlerContext ctx, int bytes) {
            super(ctx.channel(), ctx.executor());
            this.bytes = bytes;
        }
    }

    @Override
    public void flush() {
        if (resetSent || gone()) {
            return;
        }
        inExchangeCall++;
        try {
            HttpResponse head = heldHead;
            if (head != null) {
                heldHead = null;
                writeHead(head, false);
                writePending(false);
            }
            connection.flushFrames();
            if (!isWritable()) {
                armStall();
            }
        } finally {
            inExchangeCall--;
        }
    }

    @Override
    public boolean isWritable() {
        return closed || !unwritable;
    }

    /** On HTTP/2 this ends the stream, which the response does anyway: nothing else closes. */
    @Override
    public void closeAfterResponse() {
        closeAfterResponse = true;
    }

    @Override
    public boolean closesAfterResponse() {
        return closeAfterResponse;
    }

    /** RST_STREAM (CANCEL): the client sees this stream fail, the connection's other streams go on. */
    @Override
    public void abort(String why) {
        reset(why, Http2Error.CANCEL.code(), false);
    }

    /** The server's RST_STREAM, passed on with its code (NO_ERROR stays NO_ERROR). */
    @Override
    public void reset(String why, long http2ErrorCode) {
        reset(why, http2ErrorCode, true);
    }

    private void reset(String why, long http2ErrorCode, boolean forwarded) {
        log.debug("resetting {} stream {} with {}: {}", ctx.channel(), id(), http2ErrorCode, why);
        done = true;
        heldHead = null;
        releaseInbound();
        inExchangeCall++;
        try {
            resetStream(http2ErrorCode, forwarded);
        } finally {
            inExchangeCall--;
        }
    }

    /** RST_STREAM unless the stream is closed already; Netty closes it (and we hear of it) when written. */
    private void resetStream(long code) {
        resetStream(code, false);
    }

    /** {@code forwarded}: the server's reset, which the client's reset limit does not count ({@link ResetsSentLimit}). */
    private void resetStream(long code, boolean forwarded) {
        if (!closed && !resetSent && stream.state() != Http2Stream.State.CLOSED) {
            resetSent = true;
            if (forwarded) {
                connection.forwardReset(id(), code);
            } else {
                connection.encoder().writeRstStream(ctx, id(), code, connection.voidPromise());
            }
            connection.flushFrames();
        }
    }

    @Override
    public void readMore() {
        inExchangeCall++;
        try {
            process();
            Exchange ex = exchange;
            if (ex != null) {
                ex.flushUpstream();
            }
            acknowledgeIfWanted(true);
        } finally {
            inExchangeCall--;
        }
    }

    @Override
    public void exchangeDone(Exchange ex) {
        if (exchange == ex && !done) {
            finished(ex.requestComplete());
        }
    }

    /** Unreachable: a stream cannot ask for an upgrade (Netty's decoder refuses Upgrade), so no 101 is let through. */
    @Override
    public void becomeTunnel(BackendConnection backend, Server server) {
        backend.channel.close();
        abort("no protocol switch over HTTP/2");
    }

    @Override
    public String clientIp() {
        return connection.address().ip();
    }

    @Override
    public boolean clientIpv6() {
        return connection.address().ipv6();
    }

    @Override
    public ByteBufAllocator alloc() {
        return ctx.alloc();
    }

    @Override
    public HttpProtocol protocol() {
        return HttpProtocol.HTTP2;
    }

    // The stream's own life.

    /**
     * Opens the stream's window by what the exchange took, once it took all that came and wants more: Netty
     * counts the bytes as consumed and sends WINDOW_UPDATE when its ratio says.
     */
    private void acknowledgeIfWanted(boolean flush) {
        int n = unacknowledged;
        if (n > 0 && !done && inbound.wantsMore(exchange)) {
            unacknowledged = 0;
            if (connection.consumed(stream, n) && flush) {
                connection.flushFrames();
            }
        }
    }

    private void armStall() {
        if (stallNanos > 0 && timers != null && !timers.stall.armed()) {
            timers.stall.arm(stallNanos);
        }
    }

    private void releaseInbound() {
        inbound.releaseAll();
    }

    private void disarmStall() {
        if (timers != null) {
            timers.stall.disarm();
        }
    }

    void responseTimedOut() {
        Exchange ex = exchange;
        if (ex != null && !done) {
            ex.responseTimedOut();
        }
    }
}
