package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.buffer.ByteBuf;
import io.netty.util.AsciiString;
import io.sluice.config.Http2Config;
import io.sluice.net.ShutdownBeforeClose;

/**
 * The one place that puts a client connection's protocol handlers in its pipeline: HTTP/1.1 or HTTP/2. The
 * listener's initializer uses it for cleartext connections (HTTP/1.1, whose byte watcher also sniffs for the
 * prior-knowledge preface when {@code http.h2c} is on); a TLS listener calls {@link #configure} with the
 * protocol ALPN chose, from an {@code ApplicationProtocolNegotiationHandler}, on an active channel.
 */
public final class FrontProtocols {
    /** Netty's default: control frames (SETTINGS ACK, PING ACK, RST) queued unwritten before the client is cut off. */
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;

    private final HttpListener listener;

    FrontProtocols(HttpListener listener) {
        this.listener = listener;
    }

    /** {@code protocol} as ALPN names it: "h2", anything else is HTTP/1.1. The connection is admitted here. */
    public void configure(ChannelPipeline p, String protocol) {
        if ("h2".equals(protocol)) {
            http2(p, false);
        } else {
            http1(p, false);
        }
    }

    /**
     * HTTP/1.1: the strict codec and the connection handler, which admits the connection when it is active.
     *
     * @param h2c a cleartext listener with {@code http.h2c}: the first bytes may be the HTTP/2 preface, and
     *            requests may ask to switch to HTTP/2 ({@link #addH2cUpgrade}, when one does)
     */
    void http1(ChannelPipeline p, boolean h2c) {
        HttpFrontCodecs.ResponseEncoder encoder = new HttpFrontCodecs.ResponseEncoder();
        HttpFrontHandler front = new HttpFrontHandler(listener, encoder);
        p.addLast("watch", new ByteWatcher(front, h2c ? new PrefaceSniffer(this) : null));
        // The decoder keeps the listener's config template it was made with (its Netty decoder, if one is ever
        // needed, is made from it): a reload replaces the template rather than changing it.
        p.addLast("decoder", new HttpFrontCodecs.RequestDecoder(listener.decoderTemplate(), encoder));
        p.addLast("encoder", encoder);
        if (h2c) {
            front.offerH2cUpgrade(this);
        }
        p.addLast("front", front);
    }

    /**
     * A request head with an {@code Upgrade} header on a connection that may switch to HTTP/2: Netty's upgrade
     * handler goes in front of the connection handler, and sees this head first. Only such a head can start an
     * upgrade, so the handler is added then rather than to every connection (where it would see every request
     * part go by).
     */
    void addH2cUpgrade(ChannelHandlerContext front, HttpFrontHandler handler, HttpRequest head) throws Exception {
        H2cUpgrade upgrade = new H2cUpgrade(ctx -> {
            leaveHttp1(ctx.pipeline());
            Http2Flushes.addFirst(ctx.pipeline());
            ctx.pipeline().addFirst("shutdown-on-close", ShutdownBeforeClose.INSTANCE);
        }, protocol -> AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                ? upgradeCodec() : null, handler, listener.config().http().maxHeaders());
        front.pipeline().addBefore(front.name(), "h2c-upgrade", upgrade);
        upgrade.channelRead(front.pipeline().context(upgrade), head);
    }

    /**
     * HTTP/2: one handler, Netty's connection handler with the listener's limits and the streams on it, each a
     * plain object (on the connection's event loop, so a stream's server connection is on it too).
     *
     * @param admitted the connection was already counted (it began as HTTP/1.1)
     */
    Http2FrontConnection http2(ChannelPipeline p, boolean admitted) {
        Http2FrontConnection connection = new ConnectionBuilder(listener, admitted).build();
        p.addFirst("shutdown-on-close", ShutdownBeforeClose.INSTANCE);
        Http2Flushes.addLast(p);
        p.addLast("h2", connection);
        return connection;
    }

    /**
     * Netty's server side of a connection as its frame codec had it (the same reader and writer, limits and
     * flow control), with Sluice's handler on top instead of a frame object per frame. The connection's flow
     * controller shares the client's window among the streams round-robin (Netty's {@code UniformStreamByteDistributor})
     * instead of by RFC 7540 priorities, which RFC 9113 deprecated and clients no longer send: Netty's default
     * keeps a priority tree with a node per stream, and fairness between streams is all Sluice needs (one stalled
     * stream must not hold up the others).
     */
    private static final class ConnectionBuilder
            extends AbstractHttp2ConnectionHandlerBuilder<Http2FrontConnection, ConnectionBuilder> {
        private final HttpListener listener;
        private final boolean admitted;
        private final int connectionWindow;

        ConnectionBuilder(HttpListener listener, boolean admitted) {
            this.listener = listener;
            this.admitted = admitted;
            Http2Config c = listener.config().http2();
            this.connectionWindow = connectionWindow(c);
            Http2Settings settings = new Http2Settings()
                    .maxConcurrentStreams(c.maxConcurrentStreams())
                    .initialWindowSize(c.initialStreamWindowSize())
                    .maxHeaderListSize(c.maxHeaderListSize());
            initialSettings(settings);
            decoderEnforceMaxRstFramesPerWindow(c.maxResetsPerWindow(), (int) c.resetWindow().toSeconds());
            // Streams in flight finish on a drain; runtime.drain_timeout ends the wait (closeConnections).
            gracefulShutdownTimeoutMillis(-1);
            // Headers validated, required pseudo-headers, the control-frame flood guard; Netty's guard on the resets
            // written is left out (it would count those passed on from servers: ResetsSentLimit instead).
            Http2CompactCodec codec = new Http2CompactCodec(Http2CodecBuilder.roundRobin(true), settings,
                    Http2HeadersEncoder.NEVER_SENSITIVE, true, MAX_QUEUED_CONTROL_FRAMES);
            codec(codec.decoder, codec.encoder);
        }

        @Override
        public Http2FrontConnection build() {
            return super.build();
        }

        @Override
        protected Http2FrontConnection build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                             Http2Settings initialSettings) {
            ResetsSentLimit resets = new ResetsSentLimit(encoder);
            return new Http2FrontConnection(decoder, new IgnoreFramesAfterReset(resets), resets, initialSettings,
                    listener, admitted, connectionWindow);
        }
    }

    /**
     * The connection window to open: the configured one, but not below what Netty's frame codec opened (the
     * default plus twice the stream window's excess over it), which the README promises as the floor.
     */
    static int connectionWindow(Http2Config c) {
        int excess = Math.max(0, c.initialStreamWindowSize() - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
        return Math.max(c.initialConnectionWindowSize(), Http2CodecUtil.DEFAULT_WINDOW_SIZE + 2 * excess);
    }

    /**
     * {@code Upgrade: h2c} accepted: Netty's upgrade codec answers {@code 101}, installs the HTTP/2 handler (the
     * HTTP/1.1 ones are gone by then), which takes the request as stream 1's.
     */
    private Http2ServerUpgradeCodec upgradeCodec() {
        return new Http2ServerUpgradeCodec("h2", new ConnectionBuilder(listener, true).build());
    }

    /**
     * Takes the HTTP/1.1 handlers out of a connection that becomes HTTP/2 (its front handler stops serving).
     * The h2c upgrade handler, when there, removes itself once it has installed HTTP/2.
     */
    private static void leaveHttp1(ChannelPipeline p) {
        HttpFrontHandler front = p.get(HttpFrontHandler.class);
        front.leave();
        p.remove("watch");
        p.remove("decoder");
        p.remove("encoder");
        p.remove(front);
    }

    /** The client sent the HTTP/2 preface on a connection that began as HTTP/1.1: swap the handlers. */
    void switchToHttp2(Channel ch, ByteBuf held) {
        ChannelPipeline p = ch.pipeline();
        leaveHttp1(p);
        if (p.get("h2c-upgrade") != null) {
            p.remove("h2c-upgrade");
        }
        http2(p, true);
        // HTTP/2 flow control bounds what a client can send; the connection itself is read all the time.
        ch.config().setAutoRead(true);
        p.fireChannelRead(held);
        p.fireChannelReadComplete();
    }
}
