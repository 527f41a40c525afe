package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.balance.PickContext;
import io.sluice.config.HttpConfig;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP listener. Requests are served one at a time: the next request (even one
 * already pipelined and decoded) waits in {@link #inbound} until the current response is complete, which keeps
 * responses in request order without buffering any response. Reading is manual: a read is asked for only when
 * there is somewhere for the bytes to go, and one read brings at most what {@link io.sluice.net.BatchedReads}
 * allows (a loop of 256 KiB plus one more buffer of up to 256 KiB), which is then queued in {@link #inbound}
 * if the exchange cannot take it yet.
 */
final class HttpFrontHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HttpFrontHandler.class);

    final HttpListener listener;
    final HttpConfig http;
    final HttpFrontCodecs.ResponseEncoder encoder;
    Channel client;
    PickContext pick;
    /** Decoded but not yet processed: the rest of the current request, then pipelined ones. */
    private final ArrayDeque<HttpObject> inbound = new ArrayDeque<>(4);
    Exchange current;
    /** No request after the current one: close once its response is written. */
    boolean closeAfterResponse;
    /** Everything is being thrown away because the connection is closing. */
    private boolean discarding;
    /** The client half-closed: serve what was already received, then close. */
    private boolean inputDone;
    /** Header read timeout, or keep-alive idle timeout between requests ({@link #waitIsKeepalive}). */
    private LazyTimeout waitTimer;
    private boolean waitIsKeepalive;
    /** The current exchange's response timeout: one timer per connection, re-armed per request. */
    LazyTimeout responseTimer;
    /** The client's address as text (null when unknown), for forwarded headers and the access log. */
    String clientIp;
    boolean clientIpv6;
    /** Bytes of a next request arrived since the last request was received. */
    private boolean bytesSeen;
    private boolean processing;

    HttpFrontHandler(HttpListener listener, HttpFrontCodecs.ResponseEncoder encoder) {
        this.listener = listener;
        this.http = listener.config().http();
        this.encoder = encoder;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        if (!listener.admission().admit(client)) {
            return;
        }
        InetSocketAddress remote = client.remoteAddress() instanceof InetSocketAddress a ? a : null;
        pick = new PickContext(remote);
        if (remote != null && remote.getAddress() != null) {
            clientIp = remote.getAddress().getHostAddress();
            clientIpv6 = remote.getAddress() instanceof Inet6Address;
        }
        waitTimer = new LazyTimeout(client.eventLoop(), this::waitExpired);
        responseTimer = new LazyTimeout(client.eventLoop(), this::responseTimedOut);
        armWait(http.headerTimeout().toNanos(), false);
        read();
    }

    /** Called by {@link ByteWatcher} for every buffer read, before decoding. */
    void onBytes() {
        if (!bytesSeen && (current == null || current.requestDone)) {
            bytesSeen = true;
            if (current == null && waitIsKeepalive) {
                // The idle wait is over; the head must now arrive within header_timeout.
                armWait(http.headerTimeout().toNanos(), false);
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (discarding || !(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        inbound.add(o);
        process();
    }

    /**
     * Feeds queued messages to the current exchange, or starts the next exchange. Exchanges can finish inside
     * this loop (a local 503 finishes at once) and call back here; those calls return at once and the loop
     * goes on, so a burst of pipelined requests is served iteratively instead of by recursion.
     */
    void process() {
        if (processing) {
            return;
        }
        processing = true;
        try {
            processQueued();
        } finally {
            processing = false;
        }
        // Body parts forwarded here may belong to an exchange that got its connection inside the loop, after
        // its own flush: flush once more so they do not wait for the next read batch.
        Exchange ex = current;
        if (ex != null) {
            ex.flushToBackend();
        }
    }

    private void processQueued() {
        HttpObject m;
        while (!discarding && (m = inbound.peek()) != null) {
            Exchange ex = current;
            if (ex == null) {
                inbound.poll();
                if (m instanceof HttpRequest req) {
                    start(req);
                } else {
                    ReferenceCountUtil.release(m);
                }
                continue;
            }
            if (ex.requestDone || !ex.acceptsContent()) {
                break;
            }
            inbound.poll();
            if (m instanceof HttpContent c && !(m instanceof HttpRequest)) {
                ex.onRequestContent(c);
            } else {
                ReferenceCountUtil.release(m);
                abort("request head where body was expected");
            }
        }
    }

    private void start(HttpRequest req) {
        cancelWait();
        bytesSeen = false;
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = RequestValidator.decodeFailure(cause);
            ReferenceCountUtil.release(req);
            refuse(status, cause.getMessage());
            return;
        }
        RequestValidator.Refusal r = RequestValidator.check(req, http.maxHeaders());
        if (r != null) {
            ReferenceCountUtil.release(req);
            refuse(r.status(), r.message());
            return;
        }
        current = new Exchange(this, req);
        current.begin();
    }

    /** Answers a request that is not forwarded at all, and closes: after a bad head the stream cannot be trusted. */
    private void refuse(HttpResponseStatus status, String message) {
        int code = status.code();
        listener.httpStats().count(code == 413 || code == 414 || code == 431 ? ErrorReason.TOO_LARGE
                : ErrorReason.BAD_REQUEST);
        listener.httpStats().countRefused(code);
        log.debug("refusing request on {}: {} {}", client, code, message);
        encoder.headRequest = false;
        FullHttpResponse resp = ErrorResponses.plain(client.alloc(), status, shortReason(code), true);
        closeAfterWrite(client.writeAndFlush(resp));
    }

    private static String shortReason(int code) {
        return switch (code) {
            case 414 -> "request line too long";
            case 431 -> "request header fields too large";
            case 405 -> "method not supported by this proxy";
            case 505 -> "HTTP version not supported";
            default -> "malformed or ambiguous request";
        };
    }

    /** The exchange finished (both directions). */
    void exchangeDone(Exchange ex, ChannelFuture lastWrite) {
        if (current != ex) {
            return;
        }
        current = null;
        if (closeAfterResponse || (inputDone && inbound.isEmpty())) {
            closeAfterWrite(lastWrite);
            return;
        }
        if (inbound.isEmpty()) {
            if (bytesSeen) {
                armWait(http.headerTimeout().toNanos(), false);
            } else {
                armWait(http.keepaliveTimeout().toNanos(), true);
            }
        }
        process();
        maybeRead();
    }

    void closeAfterWrite(ChannelFuture lastWrite) {
        discarding = true;
        closeAfterResponse = true;
        releaseInbound();
        cancelWait();
        if (lastWrite == null) {
            client.close();
        } else {
            lastWrite.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** Something is broken beyond a clean answer: drop the connection (the client sees a truncated response). */
    void abort(String why) {
        log.debug("closing {}: {}", client, why);
        discarding = true;
        releaseInbound();
        client.close();
    }

    /** Sluice is shutting down: no new request after the current one. */
    void closeAfterResponse() {
        closeAfterResponse = true;
    }

    /** Sluice is shutting down: a connection between requests closes now. */
    void closeIfIdle() {
        if (current == null && !discarding && client != null) {
            discarding = true;
            releaseInbound();
            cancelWait();
            client.close();
        }
    }

    /** The connection is about to become a tunnel: stop acting on HTTP. The encoder goes at once. */
    void becomeTunnel() {
        current = null;
        discarding = true;
        cancelWait();
        releaseInbound();
        client.pipeline().remove(encoder);
    }

    /** Last step of the switch to a tunnel: bytes the decoder still holds flow on into the relay. */
    void removeHttpHandlers() {
        ChannelPipeline p = client.pipeline();
        p.remove(this);
        p.remove(ByteWatcher.class);
        p.remove(HttpFrontCodecs.RequestDecoder.class);
    }

    /** Reads from the client if there is somewhere for the bytes to go. */
    void maybeRead() {
        if (discarding || inputDone || !inbound.isEmpty()) {
            return;
        }
        Exchange ex = current;
        if (ex == null || (!ex.requestDone && ex.wantsBody())) {
            read();
        }
    }

    private void read() {
        // After a half-close, epoll has dropped the socket from its set and read() would fail (see l4).
        if (client instanceof DuplexChannel d && d.isInputShutdown()) {
            return;
        }
        client.read();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null) {
            ex.flushToBackend();
        }
        maybeRead();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null && client.isWritable()) {
            ex.onClientWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputDone = true;
            if (current == null && inbound.isEmpty()) {
                client.close();
            }
        } else if (evt instanceof IdleStateEvent) {
            client.close();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        discarding = true;
        if (waitTimer != null) {
            waitTimer.close();
            responseTimer.close();
        }
        releaseInbound();
        Exchange ex = current;
        current = null;
        if (ex != null) {
            ex.clientClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseInbound();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    private void releaseInbound() {
        HttpObject m;
        while ((m = inbound.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }

    private void armWait(long nanos, boolean keepalive) {
        waitIsKeepalive = keepalive;
        waitTimer.arm(nanos);
    }

    private void cancelWait() {
        if (waitTimer != null) {
            waitTimer.disarm();
        }
    }

    private void responseTimedOut() {
        Exchange ex = current;
        if (ex != null && !discarding) {
            ex.responseTimedOut();
        }
    }

    private void waitExpired() {
        if (current != null || discarding) {
            return;
        }
        if (!bytesSeen) {
            // An idle keep-alive connection (or one that never sent a byte): nothing to answer.
            client.close();
            return;
        }
        listener.httpStats().count(ErrorReason.HEADER_TIMEOUT);
        listener.httpStats().countRefused(HttpResponseStatus.REQUEST_TIMEOUT.code());
        encoder.headRequest = false;
        closeAfterWrite(client.writeAndFlush(ErrorResponses.plain(client.alloc(), HttpResponseStatus.REQUEST_TIMEOUT,
                "request head not received in time", true)));
    }

    /** Sees raw bytes before the decoder, so that the header timeout can start at a request's first byte. */
    static final class ByteWatcher extends ChannelInboundHandlerAdapter {
        private final HttpFrontHandler front;

        ByteWatcher(HttpFrontHandler front) {
            this.front = front;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b && b.isReadable()) {
                front.onBytes();
            }
            ctx.fireChannelRead(msg);
        }
    }
}
