package io.sluice.http;

import io.sluice.net.ClientSource;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 client connection, right behind Netty's frame codec: admits it, opens the connection window to its
 * configured size, knows the client's address for its streams, counts the GOAWAYs sent and ends the connection
 * on a drain (gracefully) or a stall (at once). It hands each stream's frames (HEADERS, DATA) and the codec's
 * events on it (closed, writability) to the stream's {@link Http2StreamDownstream}, a plain object made at the
 * stream's first HEADERS: no child channel or pipeline per stream. Frames of the connection itself (SETTINGS,
 * PING, GOAWAY), and RST_STREAM and WINDOW_UPDATE, are the codec's to act on and end here (a reset closes its
 * stream, which the stream hears as closed). Event loop only.
 */
final class Http2FrontConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2FrontConnection.class);

    static final long ERROR_CLOSE_GRACE_MILLIS = 1000;

    private final HttpListener listener;
    private final boolean admitted;
    private final int connectionWindow;
    /** The codec's view of the connection: its streams and flow controllers. */
    private final Http2Connection h2;
    private final IntObjectHashMap<Http2StreamDownstream> streams = new IntObjectHashMap<>();
    /** Streams that got frames during the current read of the connection, told when it completes. */
    private final ArrayList<Http2StreamDownstream> readBatch = new ArrayList<>();
    private ChannelHandlerContext ctx;
    /** For frames nobody waits on: a failure (a stream reset meanwhile) is not an exception of the connection. */
    private ChannelPromise quiet;
    private Channel channel;
    private InetSocketAddress remote;
    private ClientAddress address = ClientAddress.UNKNOWN;
    /** Server connections for this connection's streams (private ones with send_proxy_protocol). */
    private ClientPools pools;
    /** Timers of ended streams, for the next ones (at most one per stream open at once). */
    private final ArrayDeque<Http2StreamTimers> timers = new ArrayDeque<>();
    /** Why Sluice itself is ending the connection, for the GOAWAY without error it sends; null otherwise. */
    private GoAwayReason ending;

    Http2FrontConnection(HttpListener listener, boolean admitted, int connectionWindow, Http2Connection h2) {
        this.listener = listener;
        this.admitted = admitted;
        this.connectionWindow = connectionWindow;
        this.h2 = h2;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.quiet = new VoidChannelPromise(ctx.channel(), false);
        if (ctx.channel().isActive()) {
            activate(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        activate(ctx);
        ctx.fireChannelActive();
    }

    private void activate(ChannelHandlerContext ctx) {
        if (channel != null) {
            return;
        }
        channel = ctx.channel();
        pools = new ClientPools(channel);
        if (!admitted && !listener.admission().admit(channel)) {
            return;
        }
        remote = ClientSource.of(channel);
        address = ClientAddress.of(remote);
        // SETTINGS cannot change the connection's window; only a WINDOW_UPDATE on stream 0 can. Netty opens it
        // to twice the stream window; it is raised here when configured larger.
        int now = h2.local().flowController().windowSize(h2.connectionStream());
        if (connectionWindow > now) {
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(connectionWindow - now));
        }
        if (!channel.config().isAutoRead()) {
            channel.config().setAutoRead(true);
        }
    }

    InetSocketAddress remote() {
        return remote;
    }

    ExchangeContext.Pools pools() {
        return pools;
    }

    ClientAddress address() {
        return address;
    }

    ChannelPromise voidPromise() {
        return quiet;
    }


    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame f) {
            int id = f.stream().id();
            Http2StreamDownstream s = streams.get(id);
            if (s == null) {
                if (f.stream().state() == Http2Stream.State.CLOSED) {
                    return; // gone already (the connection is closing)
                }
                s = new Http2StreamDownstream(listener, this, ctx, f.stream());
                streams.put(id, s);
            }
            try {
                s.onHeaders(f);
            } catch (Throwable e) {
                failed(s, e);
            }
            readBy(s);
        } else if (msg instanceof Http2DataFrame f) {
            Http2StreamDownstream s = streams.get(f.stream().id());
            if (s == null) {
                f.release();
                return;
            }
            try {
                s.onData(f);
            } catch (Throwable e) {
                failed(s, e);
            }
            readBy(s);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /**
     * A stream got a frame: it is told when the read completes. Every frame comes from a read of the socket, the
     * request of an h2c upgrade too (the codec hands it on from the upgrade's event, inside the read of that
     * request, whose completion reaches this handler once the codec is in place).
     */
    private void readBy(Http2StreamDownstream s) {
        if (!s.inReadBatch) {
            s.inReadBatch = true;
            readBatch.add(s);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ArrayList<Http2StreamDownstream> batch = readBatch;
        try {
            for (int i = 0; i < batch.size(); i++) {
                Http2StreamDownstream s = batch.get(i);
                s.inReadBatch = false;
                try {
                    s.readComplete();
                } catch (Throwable e) {
                    failed(s, e);
                }
            }
        } finally {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).inReadBatch = false;
            }
            batch.clear();
        }
        ctx.fireChannelReadComplete();
    }

    /**
     * Handling one stream's frame or event threw (a bug of Sluice, not the client's doing): that stream alone is
     * reset (INTERNAL_ERROR); its connection's other streams go on, as they did with a child channel per stream.
     */
    void failed(Http2StreamDownstream s, Throwable e) {
        log.warn("HTTP/2 stream {} of {} failed: reset", s.id(), channel, e);
        listener.httpStats().count(ErrorReason.INTERNAL);
        try {
            s.internalError();
        } catch (Throwable again) {
            log.warn("HTTP/2 stream {} of {} failed again while reset", s.id(), channel, again);
        }
    }

    /** The timers for a stream that starts: those of an ended stream when there are. */
    Http2StreamTimers timers(Http2StreamDownstream stream) {
        Http2StreamTimers t = timers.pollFirst();
        if (t == null) {
            t = new Http2StreamTimers(channel.eventLoop(), this);
        }
        t.serve(stream);
        return t;
    }

    /** A stream ended: its timers serve the next one, or stop with the connection. */
    void giveBack(Http2StreamTimers t) {
        if (channel.isActive()) {
            t.release();
            timers.addFirst(t);
        } else {
            t.close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !streams.isEmpty()) {
            // A copy: a stream made writable may write and close others (and so change the map) meanwhile.
            for (Http2StreamDownstream s : streams.values().toArray(new Http2StreamDownstream[0])) {
                if (s.isClosed()) {
                    continue;
                }
                try {
                    s.connectionWritable();
                } catch (Throwable e) {
                    failed(s, e);
                }
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // The codec closes the streams as the connection goes (each hears it); any left are closed here.
        if (!streams.isEmpty()) {
            for (Http2StreamDownstream s : new ArrayList<>(streams.values())) {
                try {
                    s.closed();
                } catch (Throwable e) {
                    log.warn("HTTP/2 stream {} of {} failed as it closed", s.id(), channel, e);
                }
            }
            streams.clear();
        }
        Http2StreamTimers t;
        while ((t = timers.pollFirst()) != null) {
            t.close();
        }
        ctx.fireChannelInactive();
    }

    void goAwaySent(long errorCode) {
        GoAwayReason reason = errorCode == Http2Error.NO_ERROR.code()
                ? (ending != null ? ending : GoAwayReason.OTHER) : GoAwayReason.of(errorCode);
        listener.httpStats().countGoAway(reason);
        log.debug("GOAWAY to {}: {}", channel, reason.label());
        if (errorCode != Http2Error.NO_ERROR.code()) {
            // The codec closes after an error's GOAWAY is written, except for errors it treats as graceful: those
            // wait for the streams in flight, and we set no graceful shutdown timeout (a drain's streams may take
            // long). A client that broke the rules does not get that wait.
            channel.eventLoop().schedule(() -> {
                if (channel.isOpen()) {
                    closeNow();
                }
            }, ERROR_CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Shutdown or reload: GOAWAY now; the streams already open finish, then the connection closes. */
    void drain() {
        if (ending == null && channel.isActive()) {
            ending = GoAwayReason.DRAIN;
            channel.close();
        }
    }

    /**
     * A response has waited http2.stall_timeout for the client to open its window: GOAWAY and close at once,
     * without waiting for streams that would never finish.
     */
    void stalled() {
        if (ending != null || !channel.isActive()) {
            return;
        }
        ending = GoAwayReason.STALL;
        channel.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        // Past the consolidation of flushes: the close below does not go through the pipeline.
        Http2Flushes.flushNow(channel);
        channel.unsafe().close(channel.voidPromise());
    }

    /** After runtime.drain_timeout: streams still open are cut. */
    void closeNow() {
        channel.unsafe().close(channel.voidPromise());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof Http2FrameStreamEvent e) {
            int id = e.stream().id();
            Http2StreamDownstream s = streams.get(id);
            if (s == null) {
                return;
            }
            // Writability is each stream's own count of its bytes (see Http2StreamDownstream), not the codec's.
            if (e.type() == Http2FrameStreamEvent.Type.State && e.stream().state() == Http2Stream.State.CLOSED) {
                streams.remove(id);
                try {
                    s.closed();
                } catch (Throwable t) {
                    failed(s, t);
                }
            }
        } else if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof Http2FrameStreamException e) {
            // A client's frame broke the rules of one stream: the codec leaves the reset to us.
            log.debug("HTTP/2 stream {} of {} failed: {}", e.stream().id(), ctx.channel(), cause.toString());
            Http2StreamDownstream s = streams.get(e.stream().id());
            if (s != null) {
                s.streamError(e.error());
            } else if (e.stream().state() != Http2Stream.State.CLOSED) {
                ctx.write(new DefaultHttp2ResetFrame(e.error()).stream(e.stream()), quiet);
                ctx.flush();
            }
            return;
        }
        log.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
        // A protocol error is the codec's to answer (GOAWAY with its code, then close); closing here first
        // would send a GOAWAY without error instead.
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
            ctx.close();
        }
    }
}
