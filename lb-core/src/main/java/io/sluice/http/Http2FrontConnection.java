package io.sluice.http;

import io.sluice.net.ClientSource;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 client connection, behind Netty's codec and stream multiplexer: admits it, opens the connection
 * window to its configured size, knows the client's address for its streams, counts the GOAWAYs sent and
 * ends the connection on a drain (gracefully) or a stall (at once). Frames of the connection itself (SETTINGS,
 * PING, GOAWAY) are answered by the codec and end here. Event loop only.
 */
final class Http2FrontConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2FrontConnection.class);

    static final long ERROR_CLOSE_GRACE_MILLIS = 1000;

    private final HttpListener listener;
    private final boolean admitted;
    private final int connectionWindow;
    private Channel channel;
    private InetSocketAddress remote;
    private ClientAddress address = ClientAddress.UNKNOWN;
    /** Server connections for this connection's streams (private ones with send_proxy_protocol). */
    private ClientPools pools;
    /** Timers of ended streams, for the next ones (at most one per stream open at once). */
    private final ArrayDeque<Http2StreamTimers> timers = new ArrayDeque<>();
    /** Why Sluice itself is ending the connection, for the GOAWAY without error it sends; null otherwise. */
    private GoAwayReason ending;

    Http2FrontConnection(HttpListener listener, boolean admitted, int connectionWindow) {
        this.listener = listener;
        this.admitted = admitted;
        this.connectionWindow = connectionWindow;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
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
        Http2Connection c = ctx.pipeline().get(Http2FrameCodec.class).connection();
        int now = c.local().flowController().windowSize(c.connectionStream());
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

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
    }

    /** The timers for a stream that starts: those of an ended stream when there are. */
    Http2StreamTimers timers(Http2StreamDownstream stream) {
        Http2StreamTimers t = timers.pollFirst();
        if (t == null) {
            t = new Http2StreamTimers(channel.eventLoop(), this::stalled);
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
    public void channelInactive(ChannelHandlerContext ctx) {
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
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP/2 connection {} failed: {}", ctx.channel(), cause.toString());
        // A protocol error is the codec's to answer (GOAWAY with its code, then close); closing here first
        // would send a GOAWAY without error instead.
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) == null) {
            ctx.close();
        }
    }
}
