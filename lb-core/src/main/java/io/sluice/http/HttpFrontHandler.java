package io.sluice.http;

import io.sluice.net.ClientSource;
import io.sluice.net.ConnectionClock;
import io.sluice.net.ConnectionTimeouts;
import io.sluice.net.FinWithLastSegment;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Server;
import io.sluice.config.HttpConfig;
import io.sluice.net.UpstreamAttempts;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of an HTTP listener, and the {@link Downstream} of its exchanges. Requests are served
 * one at a time: the next request (even one already pipelined and decoded) waits in {@link #inbound} until
 * the current response is complete, which keeps responses in request order without buffering any response.
 * Reading is manual: a read is asked for only when there is somewhere for the bytes to go, and one read brings
 * at most what {@link io.sluice.net.BatchedReads} allows (a loop of 256 KiB plus one more buffer of up to
 * 256 KiB), which is then queued in {@link #inbound} if the exchange cannot take it yet. What is written to
 * the server during a read batch is flushed once, when the batch is complete.
 */
final class HttpFrontHandler extends ChannelInboundHandlerAdapter implements Downstream {
    private static final Logger log = LoggerFactory.getLogger(HttpFrontHandler.class);

    private final HttpListener listener;
    private final HttpConfig http;
    private final HttpFrontCodecs.ResponseEncoder encoder;
    private final ExchangeContext.Pools pools;
    private Channel client;
    private ExchangeContext context;
    /** Decoded but not yet processed: the rest of the current request, then pipelined ones. */
    private final RequestParts inbound = new RequestParts();
    private Exchange current;
    /** The last exchange, for the next request to reuse when it is over ({@link Exchange#next}). */
    private Exchange previous;
    /** The current response's last write, to close after when this response is the connection's last. */
    private ChannelFuture lastWrite;
    /** No request after the current one: close once its response is written. */
    private boolean closeAfterResponse;
    /** Everything is being thrown away because the connection is closing. */
    private boolean discarding;
    /** The client half-closed: serve what was already received, then close. */
    private boolean inputDone;
    private HeadWait headWait;
    /** For forwarded headers and the access log. */
    private ClientAddress address = ClientAddress.UNKNOWN;
    /** Set while a request may still ask to switch to HTTP/2 ({@code Upgrade: h2c}) and nothing asked yet. */
    private FrontProtocols h2cUpgrades;

    HttpFrontHandler(HttpListener listener, HttpFrontCodecs.ResponseEncoder encoder) {
        this(listener, encoder, null);
    }

    /** @param pools where server connections come from; null: this connection's {@link ClientPools} */
    HttpFrontHandler(HttpListener listener, HttpFrontCodecs.ResponseEncoder encoder, ExchangeContext.Pools pools) {
        this.listener = listener;
        this.http = listener.config().http();
        this.encoder = encoder;
        this.pools = pools;
    }

    /** Added to a connection already active (after ALPN): it starts at once. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            activate(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate(ctx);
    }

    private void activate(ChannelHandlerContext ctx) {
        if (client != null) {
            return;
        }
        client = ctx.channel();
        if (!listener.admission().admitLast(client)) {
            // Closed; bytes that came with a PROXY header may still arrive, and are dropped.
            discarding = true;
            return;
        }
        InetSocketAddress remote = ClientSource.of(client);
        address = ClientAddress.of(remote);
        // The connection's timers share one task with its idle and send timeouts, when it has those.
        ConnectionTimeouts timeouts = ctx.pipeline().get(ConnectionTimeouts.class);
        ConnectionClock clock = timeouts != null ? timeouts.clock() : new ConnectionClock(client.eventLoop());
        headWait = new HeadWait(clock, http, this::waitExpired);
        context = new ExchangeContext(listener, new UpstreamAttempts(remote),
                new LazyTimeout(clock, this::responseTimedOut),
                pools != null ? pools : new ClientPools(client), client.eventLoop(), remote);
        headWait.start();
        read();
    }

    /** Called by {@link ByteWatcher} for every buffer read, before decoding. */
    void onBytes() {
        if (headWait == null) {
            return; // refused at admission: the bytes are dropped below
        }
        Exchange ex = current;
        if (ex == null || ex.requestComplete()) {
            headWait.bytesArrived(ex == null);
        }
    }

    /** Requests on this connection may ask to switch to HTTP/2 (a cleartext listener with {@code http.h2c}). */
    void offerH2cUpgrade(FrontProtocols protocols) {
        h2cUpgrades = protocols;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (h2cUpgrades != null && msg instanceof HttpRequest head
                && head.headers().contains(HttpHeaderNames.UPGRADE)) {
            // From now on Netty's upgrade handler sees every part before this handler, this head first.
            FrontProtocols protocols = h2cUpgrades;
            h2cUpgrades = null;
            protocols.addH2cUpgrade(ctx, this, head);
            return;
        }
        if (discarding || !(msg instanceof HttpObject o)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        inbound.add(o);
        process();
    }

    /** Moves requests along ({@link RequestParts}): one at a time, the next once the current one is retired. */
    private void process() {
        inbound.process(parts);
    }

    private final RequestParts.Owner parts = new RequestParts.Owner() {
        @Override
        public Exchange current() {
            return current;
        }

        @Override
        public boolean stopped() {
            return discarding;
        }

        @Override
        public void start(HttpRequest head) {
            HttpFrontHandler.this.start(head);
        }

        @Override
        public void took(Exchange ex) {
            retireIfDone(ex);
        }

        @Override
        public void unexpectedHead() {
            abort("request head where body was expected");
        }
    };

    private void start(HttpRequest req) {
        headWait.received();
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            HttpResponseStatus status = RequestValidator.decodeFailure(cause);
            ReferenceCountUtil.release(req);
            closeAfterWrite(Refusals.badHead(client, listener.httpStats(), status, cause.getMessage()));
            return;
        }
        RequestValidator.Refusal r = RequestValidator.check(req, http.maxHeaders());
        if (r != null) {
            ReferenceCountUtil.release(req);
            closeAfterWrite(Refusals.badHead(client, listener.httpStats(), r.status(), r.message()));
            return;
        }
        Exchange ex = Exchange.next(previous, context, this, req);
        previous = ex;
        current = ex;
        ex.begin();
        retireIfDone(ex);
    }

    private void retireIfDone(Exchange ex) {
        if (ex.phase() == ExchangePhase.DONE && current == ex) {
            retire();
        }
    }

    /** The current exchange is over: close if its response was the last, else wait for the next request. */
    private void retire() {
        current = null;
        ChannelFuture last = lastWrite;
        lastWrite = null;
        if (discarding) {
            return;
        }
        if (closeAfterResponse || (inputDone && inbound.isEmpty())) {
            // The last write went with the void promise when closing was not yet known: an empty write after it
            // completes once everything before it is written.
            closeAfterWrite(last != null || !client.isActive() ? last
                    : client.writeAndFlush(Unpooled.EMPTY_BUFFER));
            return;
        }
        if (inbound.isEmpty()) {
            headWait.betweenRequests();
        }
    }

    // Downstream: what the current exchange does to the client.

    // Writes take the void promise: a failed write fires exceptionCaught, which closes the connection, and no
    // listener is needed per part. Only a response after which the connection closes needs its future.

    @Override
    public void write(HttpObject part) {
        client.write(part, client.voidPromise());
    }

    @Override
    public void writeLast(HttpObject last) {
        if (closeAfterResponse || inputDone) {
            if (current != null && current.phase() == ExchangePhase.RESPONSE) {
                // A server's response ends the exchange with this part, and retire() closes once the write is
                // done: the FIN can leave with its last segment. A local answer may still wait for the request's
                // end before the close, so it is not held back.
                FinWithLastSegment.holdUntilClose(client);
            }
            lastWrite = client.writeAndFlush(last);
        } else {
            client.writeAndFlush(last, client.voidPromise());
        }
    }

    @Override
    public void flush() {
        client.flush();
    }

    @Override
    public boolean isWritable() {
        return client.isWritable();
    }

    /** Also when Sluice is shutting down: no new request after the current one. */
    @Override
    public void closeAfterResponse() {
        closeAfterResponse = true;
    }

    @Override
    public boolean closesAfterResponse() {
        return closeAfterResponse;
    }

    /** Something is broken beyond a clean answer: drop the connection (the client sees a truncated response). */
    @Override
    public void abort(String why) {
        log.debug("closing {}: {}", client, why);
        stopServing();
        client.close();
    }

    @Override
    public void readMore() {
        process();
        Exchange ex = current;
        if (ex != null) {
            ex.flushUpstream();
        }
        maybeRead();
    }

    @Override
    public void exchangeDone(Exchange ex) {
        if (current == ex) {
            retire();
            readMore();
        }
    }

    @Override
    public void becomeTunnel(BackendConnection backend, Server server) {
        current = null;
        stopServing();
        TunnelSwitch.replaceHttp(client, encoder, this, backend, server);
    }

    @Override
    public String clientIp() {
        return address.ip();
    }

    @Override
    public boolean clientIpv6() {
        return address.ipv6();
    }

    @Override
    public ByteBufAllocator alloc() {
        return client.alloc();
    }

    @Override
    public HttpProtocol protocol() {
        return HttpProtocol.HTTP1;
    }

    // The connection's own life.

    private void closeAfterWrite(ChannelFuture last) {
        closeAfterResponse = true;
        stopServing();
        if (last == null) {
            client.close();
        } else {
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The connection turned out to be HTTP/2 before its first request: this handler is being removed. */
    /** No request in progress or waiting: a request arriving now would be served next. */
    boolean idle() {
        return current == null && inbound.isEmpty();
    }

    void leave() {
        stopServing();
        if (headWait != null) {
            headWait.close();
            context.responseTimer.close();
        }
    }

    /** Sluice is shutting down: a connection between requests closes now. */
    void closeIfIdle() {
        if (current == null && !discarding && client != null) {
            // The last response's tail may still wait for a slow client: close after it, not over it.
            closeAfterWrite(client.isActive() ? client.writeAndFlush(Unpooled.EMPTY_BUFFER) : null);
        }
    }

    /** Reads from the client if there is somewhere for the bytes to go. */
    private void maybeRead() {
        if (inputDone) {
            closeIfCutShort(); // a pipelined request after the FIN becomes current only now
        } else if (!discarding && inbound.wantsMore(current)) {
            read();
        }
    }

    /**
     * After the client's FIN: the current request's body was cut short (its end neither taken nor waiting here),
     * so it can never be whole. Unless its answer has begun (a server may answer early without reading the
     * body, and that answer finishes), it ends at once as if the client had gone ({@link #channelInactive}),
     * not at the idle timeout.
     */
    private void closeIfCutShort() {
        Exchange ex = current;
        if (!discarding && ex != null && !ex.requestComplete() && !inbound.holdsLast()
                && !ex.phase().responseBegun()) {
            client.close();
        }
    }

    private void read() {
        // After a half-close there is nothing left to read (and on bare Netty epoll the read would fail: see l4).
        if (client instanceof DuplexChannel d && d.isInputShutdown()) {
            return;
        }
        client.read();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange ex = current;
        if (ex != null) {
            ex.flushUpstream();
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
                closeIfIdle(); // after the last response's tail, which may still wait for a slow client
            } else {
                closeIfCutShort();
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
        if (headWait != null) {
            headWait.close();
            context.responseTimer.close();
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
        inbound.releaseAll();
    }

    /** Nothing more is served on this connection: what is queued is dropped, and no head is awaited. */
    private void stopServing() {
        discarding = true;
        releaseInbound();
        if (headWait != null) { // null when admission turned the connection away
            headWait.stop();
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
        if (!headWait.headBegun()) {
            // An idle keep-alive connection (or one that never sent a byte): nothing to answer.
            client.close();
            return;
        }
        closeAfterWrite(Refusals.headTooSlow(client, listener.httpStats()));
    }
}
