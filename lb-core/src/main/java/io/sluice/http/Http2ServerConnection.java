package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import io.sluice.cluster.Server;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One multiplexed connection to an HTTP/2 server, owned by its {@link Http2Pool}; the handler right behind
 * Netty's frame codec. It keeps the connection's open streams by id and hands each its frames and events
 * ({@link Http2Stream}: no child channel or pipeline per stream), and takes the connection-level ones itself
 * (SETTINGS: how many streams; GOAWAY: drain; PING keepalive). Only the pool's loop touches it.
 */
final class Http2ServerConnection extends Http2ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(Http2ServerConnection.class);
    private static final AsciiString HTTPS = AsciiString.cached("https");
    private static final AsciiString HTTP = AsciiString.cached("http");

    enum State {
        /** Connected (and TLS done), waiting for the server's SETTINGS: its stream limit is not known yet. */
        STARTING,
        /** Takes new streams up to {@link #maxStreams}. */
        READY,
        /** GOAWAY came, the pool retired, or it served its max_requests_per_connection: no new streams. */
        DRAINING,
        CLOSED
    }

    final Channel channel;
    private final Http2Pool pool;
    /** The :scheme of its requests. */
    final AsciiString scheme;
    State state = State.STARTING;
    /** Streams borrowed or not yet closed by Netty on this connection. */
    int active;
    /** Streams opened over the connection's life, for max_requests_per_connection. */
    int opened;
    /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, capped by the pool. */
    int maxStreams;
    long idleSince = System.nanoTime();
    /** READY with no stream: counted in the pool's idle gauge. */
    boolean idle;
    boolean idleCheckScheduled;
    /** A frame came since keepalive last looked: the server is alive, no PING needed this interval. */
    private boolean heard;
    private boolean keepaliveRunning;

    private ChannelHandlerContext ctx;
    private Http2Connection http2;
    /** For frames nobody waits on: a failure is the stream's or the connection's, which end on their own. */
    private ChannelPromise quiet;
    private final IntObjectMap<Http2Stream> streams = new IntObjectHashMap<>(16);
    /** Streams that took frames during the current read: their read-complete comes at its end. */
    private final List<Http2Stream> readCompletes = new ArrayList<>(8);
    /** Inside the connection's read (between the first frame and channelReadComplete). */
    boolean inRead;
    /**
     * Runs after a read's frames, in case no channelReadComplete follows: Netty also fires frames outside a
     * socket read (the GOAWAY it makes itself when stream ids run out), and then the parked work must not wait
     * for a read that may never come.
     */
    private final Runnable readEndFallback = () -> {
        if (inRead) {
            readEnded();
            ctx.flush();
        }
    };

    Http2ServerConnection(Channel channel, Http2Pool pool) {
        this.channel = channel;
        this.pool = pool;
        this.scheme = channel.pipeline().get(SslHandler.class) != null ? HTTPS : HTTP;
    }

    @Override
    protected void handlerAdded0(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.http2 = ctx.pipeline().get(Http2FrameCodec.class).connection();
        this.quiet = new VoidChannelPromise(ctx.channel(), false);
    }

    boolean hasRoom() {
        return state == State.READY && active < maxStreams;
    }

    /** A stream for an attempt; it opens (gets its id) when its HEADERS are written. */
    Http2Stream newStream(Server server) {
        return new Http2Stream(this, newStream(), server, pool);
    }

    // For the streams.

    /** Writes a stream's first HEADERS; false when Netty refused to open the stream. */
    boolean openStream(Http2Stream s, Http2HeadersFrame headers) {
        ChannelPromise p = ctx.newPromise(); // Netty would make one anyway for a stream's first HEADERS
        ctx.write(headers, p);
        int id = s.id();
        io.netty.handler.codec.http2.Http2Stream netty = id > 0 ? http2.stream(id) : null;
        boolean open = netty != null && netty.state() != io.netty.handler.codec.http2.Http2Stream.State.CLOSED;
        if (open) {
            streams.put(id, s);
            s.opened(netty);
        }
        boolean failed = p.isDone() && !p.isSuccess();
        if (failed || !open) {
            log.debug("cannot open a stream on {}: {}", channel, failed ? p.cause().toString() : "no stream");
            // Marked before the reset: Netty closes the stream at once, and the attempt hears of it then.
            s.failedLocally(true);
            if (open) {
                reset(s, io.netty.handler.codec.http2.Http2Error.CANCEL.code());
            }
            return false;
        }
        return true;
    }

    void write(Http2StreamFrame frame) {
        ctx.write(frame, quiet);
    }

    /**
     * Writes a stream's last request frame (its trailers, or the DATA that ends it) with a promise of its own:
     * Netty reports an error in an outbound frame (trailers over the server's header list size) only through
     * the promise, and leaves the stream half-closed without a reset. The failure ends the stream.
     */
    void writeLast(Http2Stream s, Http2StreamFrame frame) {
        ChannelPromise p = ctx.newPromise();
        p.addListener(f -> {
            if (!f.isSuccess()) {
                dispatch(s, WRITE_FAILED, f.cause());
            }
        });
        ctx.write(frame, p);
    }

    void flush() {
        ctx.flush();
    }

    void reset(Http2Stream s, long code) {
        if (channel.isActive()) {
            ctx.write(new DefaultHttp2ResetFrame(code).stream(s.frameStream()), quiet);
            ctx.flush();
        }
    }

    void forget(Http2Stream s) {
        int id = s.id();
        if (id > 0 && streams.get(id) == s) {
            streams.remove(id);
        }
    }

    boolean isWritable(io.netty.handler.codec.http2.Http2Stream s) {
        return http2.remote().flowController().isWritable(s);
    }

    /** The attempt took {@code bytes} of the stream's DATA: Netty may send WINDOW_UPDATE for them. */
    void consumed(io.netty.handler.codec.http2.Http2Stream s, int bytes) {
        try {
            if (s != null && http2.local().flowController().consumeBytes(s, bytes) && !inRead) {
                ctx.flush(); // during a read the frame codec flushes at its end
            }
        } catch (Http2Exception e) {
            log.debug("flow control on {} failed: {}", channel, e.toString());
            ctx.close();
        }
    }

    void readCompleteLater(Http2Stream s) {
        if (!s.readCompletePending) {
            s.readCompletePending = true;
            readCompletes.add(s);
        }
    }

    void debug(String format, Object a, Object b) {
        log.debug(format, a, b);
    }

    // The connection's events.

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        heard = true;
        if (!inRead) {
            inRead = true;
            ctx.executor().execute(readEndFallback);
        }
        if (msg instanceof Http2StreamFrame f) {
            Http2FrameStream fs = f.stream();
            Http2Stream s = fs == null ? null : streams.get(fs.id());
            if (s == null) {
                ReferenceCountUtil.release(msg); // a stream Sluice is done with, or a push it never allowed
            } else if (msg instanceof Http2DataFrame || msg instanceof Http2HeadersFrame) {
                dispatch(s, FRAME, f);
            } else {
                if (msg instanceof Http2ResetFrame) {
                    dispatch(s, RESET, msg);
                }
                ReferenceCountUtil.release(msg); // WINDOW_UPDATE (Netty's), PRIORITY, unknown frames
            }
            return;
        }
        if (msg instanceof Http2SettingsFrame s) {
            pool.settings(this, s.settings().maxConcurrentStreams());
        } else if (msg instanceof Http2GoAwayFrame g) {
            log.debug("GOAWAY from {} ({}), last stream {}", channel, g.errorCode(), g.lastStreamId());
            // Drained first: the refused streams' requests, sent again at once, must not land here.
            pool.drain(this);
            refuseAbove(g.lastStreamId());
        }
        ReferenceCountUtil.release(msg);
    }

    /** An event for one stream, and what it carries; static lambdas, so a dispatch allocates nothing. */
    private interface StreamEvent {
        void on(Http2Stream s, Object arg);
    }

    private static final StreamEvent FRAME = (s, f) -> s.onFrame((Http2StreamFrame) f);
    private static final StreamEvent RESET = (s, r) -> s.onReset(((Http2ResetFrame) r).errorCode());
    private static final StreamEvent REFUSED = (s, unused) -> s.refusedByGoAway();
    private static final StreamEvent CLOSED = (s, unused) -> s.onStreamClosed();
    private static final StreamEvent WRITABILITY = (s, unused) -> s.writabilityChanged();
    private static final StreamEvent READ_COMPLETE = (s, unused) -> s.readComplete();
    private static final StreamEvent STREAM_ERROR = (s, e) -> s.failed((io.netty.handler.codec.http2.Http2Error) e);
    private static final StreamEvent WRITE_FAILED = (s, cause) -> s.writeFailed((Throwable) cause);

    /**
     * Every event of a stream goes through here: what its exchange throws ends that stream, not the connection
     * and its other streams (with a channel per stream, the stream's pipeline would have closed it alone).
     */
    private void dispatch(Http2Stream s, StreamEvent event, Object arg) {
        try {
            event.on(s, arg);
        } catch (RuntimeException e) {
            streamFailed(s, e);
        }
    }

    private void streamFailed(Http2Stream s, RuntimeException e) {
        log.warn("stream {} of {} failed", s.id(), channel, e);
        pool.streamFailed();
        try {
            s.failed(io.netty.handler.codec.http2.Http2Error.INTERNAL_ERROR);
        } catch (RuntimeException again) {
            // Closing it threw too (the exchange, told of the end): the stream is closed and reset regardless.
            log.warn("stream {} of {} failed again while being closed", s.id(), channel, again);
            pool.streamFailed();
        }
    }

    /** Streams the server never processed (RFC 9113 6.8): their attempts may send the request elsewhere. */
    private void refuseAbove(int lastStreamId) {
        for (Http2Stream s : List.copyOf(streams.values())) {
            if (s.id() > lastStreamId) {
                dispatch(s, REFUSED, null);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readEnded();
        ctx.fireChannelReadComplete();
    }

    private void readEnded() {
        inRead = false;
        if (!readCompletes.isEmpty()) {
            for (int i = 0; i < readCompletes.size(); i++) {
                dispatch(readCompletes.get(i), READ_COMPLETE, null);
            }
            readCompletes.clear();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            Http2FrameStream fs = e.stream();
            if (e.type() == Http2FrameStreamEvent.Type.State) {
                if (fs.state() == io.netty.handler.codec.http2.Http2Stream.State.CLOSED) {
                    Http2Stream s = streams.remove(fs.id());
                    if (s != null) {
                        dispatch(s, CLOSED, null);
                    }
                } else if (streams.get(fs.id()) == null && fs.id() % 2 == 0) {
                    // A stream the server opened (a push, though SETTINGS_ENABLE_PUSH is 0): refused.
                    ctx.write(new DefaultHttp2ResetFrame(io.netty.handler.codec.http2.Http2Error.REFUSED_STREAM)
                            .stream(fs), quiet);
                    ctx.flush();
                }
            } else {
                Http2Stream s = streams.get(fs.id());
                if (s != null) {
                    dispatch(s, WRITABILITY, null);
                }
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * Starts PING keepalive ({@code pool.ping_interval}): a connection that read nothing for an interval sends a
     * PING, and one that then hears nothing (ACK or any frame) within {@code pool.ping_timeout} is closed, so a
     * server that died without a FIN, or a path that dropped the connection, is found before a request is sent
     * into it. Any frame counts as an answer, as in gRPC: a busy connection is never PINGed.
     */
    void startKeepalive() {
        if (!keepaliveRunning && pool.pingInterval() > 0) {
            keepaliveRunning = true;
            heard = false;
            channel.eventLoop().schedule(this::keepaliveTick, pool.pingInterval(), TimeUnit.NANOSECONDS);
        }
    }

    private void keepaliveTick() {
        long interval = pool.pingInterval();
        if (state == State.CLOSED || !channel.isActive() || interval == 0) {
            keepaliveRunning = false; // closed, or turned off by a reload
            return;
        }
        if (heard) {
            heard = false;
            channel.eventLoop().schedule(this::keepaliveTick, interval, TimeUnit.NANOSECONDS);
            return;
        }
        channel.writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()));
        channel.eventLoop().schedule(() -> {
            if (heard) {
                keepaliveTick();
            } else if (channel.isActive()) {
                log.info("HTTP/2 server connection {} did not answer a PING within {} ms: closed", channel,
                        TimeUnit.NANOSECONDS.toMillis(pool.pingTimeout()));
                pool.pingTimedOut();
                channel.close();
                keepaliveRunning = false;
            }
        }, pool.pingTimeout(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inRead = false;
        readCompletes.clear();
        pool.connectionClosed(this);
        // Netty closed its streams already (their CLOSED events came); any left over end here.
        for (Http2Stream s : List.copyOf(streams.values())) {
            dispatch(s, CLOSED, null);
        }
        streams.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // A stream error in what the server sent: that stream is reset, the connection goes on.
            Http2Stream s = streams.get(e.stream().id());
            log.debug("stream {} of {} failed: {}", e.stream().id(), channel, cause.toString());
            if (s != null) {
                dispatch(s, STREAM_ERROR, e.error());
            }
            return;
        }
        log.debug("HTTP/2 server connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
