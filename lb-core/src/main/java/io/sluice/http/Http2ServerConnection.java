package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One multiplexed connection to an HTTP/2 server, owned by its {@link Http2Pool}; a handler of the
 * connection's pipeline, behind Netty's frame codec, where connection-level frames arrive. Only the pool's
 * loop touches it.
 */
final class Http2ServerConnection extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2ServerConnection.class);

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
    State state = State.STARTING;
    /** Streams opening or open on this connection. */
    int active;
    /** Streams opened over the connection's life, for max_requests_per_connection. */
    int opened;
    /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, capped by the pool. */
    int maxStreams;
    long idleSince = System.nanoTime();
    /** READY with no stream: counted in the pool's idle gauge. */
    boolean idle;
    boolean idleCheckScheduled;

    Http2ServerConnection(Channel channel, Http2Pool pool) {
        this.channel = channel;
        this.pool = pool;
    }

    boolean hasRoom() {
        return state == State.READY && active < maxStreams;
    }

    /**
     * Sits between the frame codec and the multiplexer, so that a GOAWAY drains the connection before the
     * multiplexer tells the refused streams: their requests, sent again at once, must not land here.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2SettingsFrame s) {
            pool.settings(this, s.settings().maxConcurrentStreams());
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof Http2GoAwayFrame g) {
            log.debug("GOAWAY from {} ({}), last stream {}", channel, g.errorCode(), g.lastStreamId());
            pool.drain(this);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pool.connectionClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP/2 server connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
