package io.sluice.http;

import io.sluice.net.ClientSource;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpScheme;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.collection.IntObjectHashMap;
import io.sluice.net.ShutdownBeforeClose;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 client connection: Netty's connection handler (frame reader and writer, HPACK, flow control,
 * validation and flood limits, GOAWAY, as {@link FrontProtocols} builds it) with Sluice's streams right on it.
 * Admits the connection, opens its window to the configured size, knows the client's address for its streams,
 * counts the GOAWAYs sent and ends the connection on a drain (gracefully) or a stall (at once).
 *
 * <p>The decoder calls {@link Frames} with each stream's HEADERS and DATA, which go straight to the stream's
 * {@link Http2StreamDownstream} (a plain object made at the stream's first HEADERS); the streams write through
 * {@link #encoder()}. No frame object per frame, no pipeline hop per frame, no stream object of Netty's frame
 * codec beside Netty's own {@link Http2Stream}. Frames of the connection itself (SETTINGS, PING, GOAWAY), RST_STREAM
 * and WINDOW_UPDATE are Netty's to act on: a reset closes its stream, which the stream hears from {@link Streams}.
 * Event loop only.
 */
final class Http2FrontConnection extends Http2ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(Http2FrontConnection.class);

    static final long ERROR_CLOSE_GRACE_MILLIS = 1000;

    private final HttpListener listener;
    /** Where a server's reset passed on to the client is written without counting against the client. */
    private final ResetsSentLimit resets;
    private final boolean admitted;
    private final int connectionWindow;
    private final IntObjectHashMap<Http2StreamDownstream> streams = new IntObjectHashMap<>();
    private final Frames frames = new Frames();
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
    /**
     * The client closed its side (a FIN): it opens no stream more, so the connection closes once the streams
     * it has open end. Listeners keep half-closed sockets open (HTTP/1.1 answers a request sent just before the
     * FIN); without this an HTTP/2 client's closed connection stayed in CLOSE_WAIT until the idle timeout.
     */
    private boolean clientDone;

    Http2FrontConnection(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, ResetsSentLimit resets,
                         Http2Settings settings, HttpListener listener, boolean admitted, int connectionWindow) {
        super(decoder, encoder, settings);
        this.resets = resets;
        this.listener = listener;
        this.admitted = admitted;
        this.connectionWindow = connectionWindow;
        decoder.frameListener(frames);
        connection().addListener(new Streams());
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        this.quiet = new VoidChannelPromise(ctx.channel(), false);
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            activate(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        activate(ctx);
    }

    private void activate(ChannelHandlerContext ctx) throws Http2Exception {
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
        // SETTINGS cannot change the connection's window; only a WINDOW_UPDATE on stream 0 can (the local flow
        // controller sends it as the window grows).
        Http2Stream connectionStream = connection().connectionStream();
        int now = decoder().flowController().windowSize(connectionStream);
        if (connectionWindow > now) {
            decoder().flowController().incrementWindowSize(connectionStream, connectionWindow - now);
            flush(ctx);
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

    /** A server's RST_STREAM passed on to the client: not counted by the client's reset limit. */
    void forwardReset(int streamId, long code) {
        resets.writeForwardedRstStream(ctx, streamId, code, quiet);
    }

    /** Sends what the streams wrote: the flow controller's DATA as the client's windows allow, then the socket. */
    void flushFrames() {
        flush(ctx);
    }

    /**
     * A stream took {@code bytes} of request DATA: the local flow controller counts them consumed and sends
     * WINDOW_UPDATE when its ratio says. True when it wrote one.
     */
    boolean consumed(Http2Stream stream, int bytes) {
        try {
            return decoder().flowController().consumeBytes(stream, bytes);
        } catch (Http2Exception e) {
            onError(ctx, true, e);
            return false;
        }
    }

    /** What Netty's decoder read, for the streams. */
    private final class Frames extends Http2FrameAdapter {
        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endStream) {
            onHeadersRead(ctx, streamId, headers, padding, endStream);
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                  boolean endStream) {
            Http2StreamDownstream s = streams.get(streamId);
            if (s == null) {
                Http2Stream stream = connection().stream(streamId);
                if (stream == null || stream.state() == Http2Stream.State.CLOSED) {
                    return; // gone already (the connection is closing)
                }
                s = new Http2StreamDownstream(listener, Http2FrontConnection.this, ctx, stream);
                streams.put(streamId, s);
            }
            try {
                s.onHeaders(headers, endStream);
            } catch (Throwable e) {
                failed(s, e);
            }
            readBy(s);
        }

        /** Returns 0: the bytes are acknowledged when the stream's exchange took them ({@link #consumed}). */
        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                              boolean endOfStream) {
            Http2StreamDownstream s = streams.get(streamId);
            if (s == null) {
                return 0; // its bytes go back to the connection's window when the stream closes
            }
            try {
                s.onData(data, padding, endOfStream);
            } catch (Throwable e) {
                failed(s, e);
            }
            readBy(s);
            return 0;
        }
    }

    /** Netty's view of the streams: one closed (both sides ended, a reset either way, the connection went). */
    private final class Streams extends Http2ConnectionAdapter {
        @Override
        public void onStreamClosed(Http2Stream stream) {
            Http2StreamDownstream s = streams.remove(stream.id());
            if (s != null) {
                tell(s, Http2StreamDownstream::closed);
            }
            if (clientDone && streams.isEmpty() && channel.isOpen()) {
                // After this callback: Netty is still closing the stream.
                channel.eventLoop().execute(Http2FrontConnection.this::closeIfDone);
            }
        }

        @Override
        public void onStreamHalfClosed(Http2Stream stream) {
            if (stream.state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
                Http2StreamDownstream s = streams.get(stream.id());
                if (s != null) {
                    tell(s, Http2StreamDownstream::localClosed);
                }
            }
        }

        @Override
        public void onGoAwaySent(int lastStreamId, long errorCode, ByteBuf debugData) {
            goAwaySent(errorCode);
        }
    }

    /**
     * A stream got a frame: it is told when the read completes. Every frame comes from a read of the socket, the
     * request of an h2c upgrade too (handed on from the upgrade's event, inside the read of that request, whose
     * completion reaches this handler once it is in place).
     */
    private void readBy(Http2StreamDownstream s) {
        if (!s.inReadBatch) {
            s.inReadBatch = true;
            readBatch.add(s);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        ArrayList<Http2StreamDownstream> batch = readBatch;
        try {
            for (int i = 0; i < batch.size(); i++) {
                Http2StreamDownstream s = batch.get(i);
                s.inReadBatch = false;
                tell(s, Http2StreamDownstream::readComplete);
            }
        } finally {
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).inReadBatch = false;
            }
            batch.clear();
        }
        super.channelReadComplete(ctx); // flushes what the streams wrote
    }

    /**
     * Handling one stream's frame or event threw (a bug of Sluice, not the client's doing): that stream alone is
     * reset (INTERNAL_ERROR); its connection's other streams go on.
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

    /** Tells a stream of an event; a throw resets that stream alone ({@link #failed}). */
    private void tell(Http2StreamDownstream s, Consumer<Http2StreamDownstream> event) {
        try {
            event.accept(s);
        } catch (Throwable e) {
            failed(s, e);
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
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        super.channelWritabilityChanged(ctx);
        if (ctx.channel().isWritable() && !streams.isEmpty()) {
            // A copy: a stream made writable may write and close others (and so change the map) meanwhile.
            for (Http2StreamDownstream s : streams.values().toArray(new Http2StreamDownstream[0])) {
                if (!s.isClosed()) {
                    tell(s, Http2StreamDownstream::connectionWritable);
                }
            }
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // Netty closes the streams as the connection goes (each hears it, see Streams); any left are closed here.
        super.channelInactive(ctx);
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
    }

    void goAwaySent(long errorCode) {
        GoAwayReason reason = errorCode == Http2Error.NO_ERROR.code()
                ? (ending != null ? ending : GoAwayReason.OTHER) : GoAwayReason.of(errorCode);
        listener.httpStats().countGoAway(reason);
        log.debug("GOAWAY to {}: {}", channel, reason.label());
        if (errorCode != Http2Error.NO_ERROR.code()) {
            // Netty closes after an error's GOAWAY is written, except for errors it treats as graceful: those
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
        goAway(ctx, connection().remote().lastStreamCreated(), Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                ctx.newPromise());
        // Past the consolidation of flushes: the close below does not go through the pipeline.
        Http2Flushes.flushNow(channel);
        channel.unsafe().close(channel.voidPromise());
    }

    /** After runtime.drain_timeout: streams still open are cut. */
    void closeNow() {
        channel.unsafe().close(channel.voidPromise());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent upgrade) {
            try {
                upgraded(ctx, upgrade.upgradeRequest());
            } finally {
                upgrade.release();
            }
        } else if (evt instanceof IdleStateEvent) {
            ctx.channel().close();
        } else if (evt instanceof ChannelInputShutdownEvent) {
            super.userEventTriggered(ctx, evt); // the decoder reads what it still holds first
            clientDone = true;
            cancelUnfinishedRequests();
            closeIfDone();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    /**
     * The client's FIN came before the end of these streams' requests: the rest of their bodies can never come, so
     * they are reset rather than left waiting (each with its server exchange) until the idle timeout. Streams whose
     * request is whole go on and are answered. Collected first: a reset may close its stream at once, which
     * removes it from {@link #streams}.
     */
    private void cancelUnfinishedRequests() {
        ArrayList<Http2StreamDownstream> unfinished = null;
        for (Http2StreamDownstream s : streams.values()) {
            if (s.requestStillComing()) {
                if (unfinished == null) {
                    unfinished = new ArrayList<>();
                }
                unfinished.add(s);
            }
        }
        if (unfinished != null) {
            for (Http2StreamDownstream s : unfinished) {
                tell(s, Http2StreamDownstream::requestCutShort);
            }
        }
    }

    /** The client has closed its side and no stream of it is open: nothing more can happen here. */
    private void closeIfDone() {
        if (clientDone && streams.isEmpty() && channel.isOpen()) {
            // As stalled() does: past the pipeline. A close through it waited, on TLS connections whose client had
            // sent GOAWAY and close_notify (h2load), for a write that never completed.
            Http2Flushes.flushNow(channel); // what was written for the last streams goes first
            try {
                ShutdownBeforeClose.shutdown(channel);
            } finally {
                // Closed even when the shutdown throws: a socket the peer already reset is "not yet connected"
                // (NotYetConnectedException, not an IOException), and the channel was left open.
                channel.unsafe().close(channel.voidPromise());
            }
        }
    }

    /**
     * {@code Upgrade: h2c} done ({@link #onHttpServerUpgrade} made stream 1, half closed): the request that asked
     * for it is that stream's, as if it came as HEADERS (only requests without a body switch, see
     * {@link H2cUpgrade}).
     */
    private void upgraded(ChannelHandlerContext ctx, FullHttpRequest request) {
        request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), HttpScheme.HTTP.name());
        Http2Headers headers = HttpConversionUtil.toHttp2Headers(request, true);
        frames.onHeadersRead(ctx, Http2CodecUtil.HTTP_UPGRADE_STREAM_ID, headers, 0, true);
    }

    @Override
    protected void onStreamError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                 Http2Exception.StreamException e) {
        Http2Stream stream = connection().stream(e.streamId());
        if (stream == null) {
            super.onStreamError(ctx, outbound, cause, e); // RST_STREAM (or 431 for a head too large)
            return;
        }
        if (outbound) {
            // One of the stream's frames could not be written (its fields, say): the response cannot be completed.
            log.debug("HTTP/2 stream {} of {} cannot be written: {}", e.streamId(), ctx.channel(), cause.toString());
            Http2StreamDownstream s = streams.get(e.streamId());
            if (s != null) {
                s.writeFailed();
            }
            return;
        }
        // A client's frame broke the rules of one stream: its exchange ends and the stream is reset.
        log.debug("HTTP/2 stream {} of {} failed: {}", e.streamId(), ctx.channel(), cause.toString());
        Http2StreamDownstream s = streams.get(e.streamId());
        if (s != null) {
            s.streamError(e.error());
        } else if (stream.state() != Http2Stream.State.CLOSED) {
            encoder().writeRstStream(ctx, e.streamId(), e.error().code(), quiet);
        }
    }

    @Override
    protected void onConnectionError(ChannelHandlerContext ctx, boolean outbound, Throwable cause,
                                     Http2Exception http2Ex) {
        log.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
        super.onConnectionError(ctx, outbound, cause, http2Ex); // GOAWAY with its code, then close
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            super.exceptionCaught(ctx, cause);
            return;
        }
        log.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.channel().close();
    }
}
