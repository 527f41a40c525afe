package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
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
    /** Opens the streams of the connection. */
    final Http2StreamChannelBootstrap streams;
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
    /** A frame came since keepalive last looked: the server is alive, no PING needed this interval. */
    private boolean heard;
    private boolean keepaliveRunning;

    Http2ServerConnection(Channel channel, Http2Pool pool, Http2StreamChannelBootstrap streams) {
        this.channel = channel;
        this.streams = streams;
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
        heard = true;
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
        pool.connectionClosed(this);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP/2 server connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
