package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Server;
import io.sluice.config.HttpConfig;
import io.sluice.net.UpstreamAttempts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 stream: one request, driven through an {@link Exchange} like an HTTP/1.1 request, so routing,
 * balancing (per stream), retries, timeouts, the access log and the counters are the same. Netty's codec turns
 * the stream's frames into HTTP/1.1 objects and back. Runs on the connection's event loop (the stream's child
 * channel is on it), like the server connections its exchange borrows.
 *
 * <p>Reading: the stream's channel has autoRead off and is read only when the exchange can take more of the
 * body, as on HTTP/1.1. Netty acknowledges what a read delivered (WINDOW_UPDATE) at the next read, so a
 * stream whose server is slow keeps its window closed and the client stops sending: what Sluice holds per
 * connection is bounded by the connection window, never by the client's will (netty#14922, #15011). Bytes
 * read but not acknowledged go back to the connection window when the stream closes.
 *
 * <p>Differences from HTTP/1.1: no 101 and no tunnel (the h2 codec refuses Upgrade and Connection headers
 * before a stream is made); "close after the response" ends the stream, not the connection; an abort is a
 * RST_STREAM; a response the client will not take (its window stays closed) for http2.stall_timeout closes
 * the connection.
 */
final class Http2StreamDownstream extends ChannelInboundHandlerAdapter implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(Http2StreamDownstream.class);

    private final HttpListener listener;
    private final HttpConfig http;
    private final Http2FrontConnection connection;
    private final long stallNanos;
    private Channel stream;
    private ExchangeContext context;
    /** The connection's timers this stream uses (response, stall), handed back at its end; null after. */
    private Http2StreamTimers timers;
    private final RequestParts inbound = new RequestParts();
    private Exchange exchange;
    private ChannelFuture lastWrite;
    private boolean closeAfterResponse;
    /** The exchange is over (or the stream is): whatever still arrives is dropped. */
    private boolean done;
    /** An interim response head of the server was sent whole; its remaining (empty) parts are dropped. */
    private boolean skippingInterim;
    /**
     * A final response head held back until the next part or flush: followed at once by an empty end, both go
     * as one HEADERS frame ending the stream. That is what a gRPC "trailers-only" response must be (a client
     * reads grpc-status in a HEADERS frame without END_STREAM as no status at all), and it saves an empty DATA
     * frame on every bodiless response.
     */
    private HttpResponse heldHead;

    Http2StreamDownstream(HttpListener listener, Http2FrontConnection connection) {
        this.listener = listener;
        this.http = listener.config().http();
        this.connection = connection;
        this.stallNanos = listener.config().http2().stallTimeout().toNanos();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        stream = ctx.channel();
        timers = connection.timers(this);
        context = new ExchangeContext(listener, new UpstreamAttempts(connection.remote()), timers.response,
                connection.pools(),
                stream.eventLoop(), connection.remote());
        stream.read();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || !(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (o instanceof FullHttpRequest full) {
            // HEADERS with END_STREAM: a head and an empty end, as the exchange takes them.
            inbound.add(new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers()));
            full.release();
            inbound.add(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            inbound.add(o);
        }
        process();
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
        HttpHeaders h = req.headers();
        Http2Conversion.stripNotes(h);
        RequestValidator.Refusal r = RequestValidator.check(req, http.maxHeaders());
        if (r != null) {
            ReferenceCountUtil.release(req);
            listener.httpStats().count(r.status().code() == 431 ? ErrorReason.TOO_LARGE : ErrorReason.BAD_REQUEST);
            listener.httpStats().countRefused(HttpProtocol.HTTP2, r.status().code());
            log.debug("refusing request on {}: {} {}", stream, r.status().code(), r.message());
            ErrorReason reason = r.status().code() == 431 ? ErrorReason.TOO_LARGE : ErrorReason.BAD_REQUEST;
            lastWrite = stream.writeAndFlush(Grpc.isGrpc(h)
                    ? ErrorResponses.grpc(GrpcStatus.forReason(reason), r.message(), false)
                    : ErrorResponses.plain(stream.alloc(), r.status(), r.message(), false));
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
        ChannelFuture last = lastWrite;
        if (last == null) {
            stream.close();
            return;
        }
        if (!last.isDone()) {
            armStall();
        }
        last.addListener(f -> {
            disarmStall();
            if (!requestComplete && stream.isActive()) {
                stream.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR));
            }
            // With autoRead off Netty closes a stream's channel only once its queued frames are read: request
            // DATA that arrived after the answer would stay queued, and be lost unreleased with the channel.
            // Closing releases them; the stream itself is already ended (no second RST_STREAM goes out).
            stream.close();
        });
    }

    // Downstream: what the exchange does to the client.

    @Override
    public void write(HttpObject part) {
        HttpObject out = h2Part(part);
        if (out == null) {
            return;
        }
        HttpObject merged = withHeldHead(out);
        if (merged == null) {
            return;
        }
        stream.write(merged);
    }

    @Override
    public void writeLast(HttpObject last) {
        HttpObject out = h2Part(last);
        HttpObject merged = out == null ? null : withHeldHead(out);
        lastWrite = merged == null ? stream.newSucceededFuture() : stream.writeAndFlush(merged);
    }

    /**
     * Holds a final head without body parts of its own; returns what to write now (the held head is written
     * first), or null when {@code part} is the head now held.
     */
    private HttpObject withHeldHead(HttpObject part) {
        HttpResponse head = heldHead;
        if (head == null) {
            if (part instanceof HttpResponse r && !(part instanceof HttpContent) && r.status().code() >= 200) {
                heldHead = r;
                return null;
            }
            return part;
        }
        heldHead = null;
        if (part instanceof LastHttpContent last && !last.content().isReadable()) {
            FullHttpResponse full = new DefaultFullHttpResponse(head.protocolVersion(), head.status(),
                    Unpooled.EMPTY_BUFFER, head.headers(), last.trailingHeaders());
            last.release();
            return full;
        }
        stream.write(head);
        return part;
    }

    private void writeHeldHead() {
        HttpResponse head = heldHead;
        if (head != null) {
            heldHead = null;
            stream.write(head);
        }
    }

    /**
     * HTTP/2 sends an interim response as one HEADERS frame, so an interim head of the server goes whole and
     * its (empty) end is dropped; everything else goes as it is, for the codec to turn into frames.
     */
    private HttpObject h2Part(HttpObject part) {
        if (skippingInterim && !(part instanceof HttpResponse)) {
            if (part instanceof LastHttpContent) {
                skippingInterim = false;
            }
            ReferenceCountUtil.release(part);
            return null;
        }
        if (part instanceof HttpResponse r && r.status().code() < 200 && !(r instanceof FullHttpResponse)) {
            skippingInterim = !(r instanceof LastHttpContent);
            return new DefaultFullHttpResponse(r.protocolVersion(), r.status(), Unpooled.EMPTY_BUFFER, r.headers(),
                    EmptyHttpHeaders.INSTANCE);
        }
        return part;
    }

    @Override
    public void flush() {
        writeHeldHead();
        stream.flush();
        if (!stream.isWritable()) {
            armStall();
        }
    }

    @Override
    public boolean isWritable() {
        return stream.isWritable();
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
        log.debug("resetting {}: {}", stream, why);
        done = true;
        releaseInbound();
        stream.close();
    }

    /** The server's RST_STREAM, passed on with its code; the stream closes when the codec has sent it. */
    @Override
    public void reset(String why, long http2ErrorCode) {
        log.debug("resetting {} with {}: {}", stream, http2ErrorCode, why);
        done = true;
        releaseInbound();
        stream.writeAndFlush(new DefaultHttp2ResetFrame(http2ErrorCode)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void readMore() {
        process();
        Exchange ex = exchange;
        if (ex != null) {
            ex.flushUpstream();
        }
        maybeRead();
    }

    @Override
    public void exchangeDone(Exchange ex) {
        if (exchange == ex && !done) {
            finished(ex.requestComplete());
        }
    }

    /** Unreachable: a stream cannot ask for an upgrade (the codec refuses Upgrade), so no 101 is let through. */
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
        return stream.alloc();
    }

    @Override
    public HttpProtocol protocol() {
        return HttpProtocol.HTTP2;
    }

    // The stream's own life.

    private void maybeRead() {
        if (!done && inbound.wantsMore(exchange)) {
            stream.read();
        }
    }

    private void armStall() {
        if (stallNanos > 0 && timers != null && !timers.stall.armed()) {
            timers.stall.arm(stallNanos);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange ex = exchange;
        if (ex != null) {
            ex.flushUpstream();
        }
        maybeRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stream.isWritable()) {
            disarmStall();
            Exchange ex = exchange;
            if (ex != null && !done) {
                ex.onClientWritable();
            }
        } else {
            armStall();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        done = true;
        releaseInbound();
        Exchange ex = exchange;
        if (ex != null) {
            ex.clientClosed();
        }
        // The exchange is over: the timers go to the connection's next stream.
        Http2StreamTimers t = timers;
        if (t != null) {
            timers = null;
            connection.giveBack(t);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        ReferenceCountUtil.release(evt); // a client's RST_STREAM: the stream closes next, which ends the exchange
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseInbound();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP/2 stream {} failed: {}", ctx.channel(), cause.toString());
        abort(cause.toString());
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
