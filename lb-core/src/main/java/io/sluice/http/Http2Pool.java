package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2LocalFlowController;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.config.PoolConfig;
import io.sluice.config.UpstreamProtocol;
import io.sluice.net.BatchedReads;
import io.sluice.net.ChannelOptions;
import io.sluice.net.LoopIndex;
import io.sluice.net.LoopTime;
import io.sluice.net.Transport;
import io.sluice.net.UpstreamConnector;
import io.sluice.net.UnendedReadBatches;
import io.sluice.tls.UpstreamTlsContexts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HTTP/2 connections to one server from one event loop ({@code protocol: h2 | h2c}): each request is a stream
 * on one of a few multiplexed connections, a new connection opening only when every open one has as many
 * streams as the server allows ({@code max_concurrent_streams}, at most {@link #MAX_STREAMS_PER_CONNECTION}),
 * up to the pool's {@code max_connections_per_loop}; beyond that requests wait, as on HTTP/1.1. An attempt
 * borrows a stream ({@link Http2Stream}) exactly as it borrows an HTTP/1.1 connection, and writes and reads the
 * same HTTP/1.1 objects on it (made into frames and back by the stream itself, without a channel per stream).
 *
 * <p>Flow control: the connection reads all the time (so that one stalled stream never stops the others),
 * streams are read only when their client can take more, and a stream's DATA is acknowledged (WINDOW_UPDATE)
 * only once its attempt took it: a stalled stream's server stops after {@link #STREAM_WINDOW} bytes. The connection window
 * is as large as all streams' windows together, so stalled streams never close it for the rest.
 *
 * <p>GOAWAY: the connection takes no new stream; its streams the server did not process are closed as refused
 * ({@link Http2ServerConnection}), and their attempts send the request again; the others finish, then the
 * connection closes.
 */
final class Http2Pool implements LoopPool {
    private static final Logger log = LoggerFactory.getLogger(Http2Pool.class);

    /** Streams per connection at most, whatever the server allows: with the windows, bounds what one holds. */
    static final int MAX_STREAMS_PER_CONNECTION = 100;
    /** What a server may send on one stream before Sluice has passed it on (SETTINGS_INITIAL_WINDOW_SIZE). */
    static final int STREAM_WINDOW = 64 * 1024;
    static final int CONNECTION_WINDOW = MAX_STREAMS_PER_CONNECTION * STREAM_WINDOW;
    /**
     * A stream's WINDOW_UPDATE goes out with every read its attempt asks for once it took DATA, not after half the
     * window (Netty's 0.5), as HAProxy does. A server whose last segments wait for our ACK (Nagle, a corked
     * sendfile: NGINX) otherwise waits for Linux's delayed-ACK timer whenever no other frame is going its way, and
     * a lone 1 MiB response took ~400 ms instead of 2 (docs/bench/measurements-2026-12-05-h2ack.md). Below 1
     * because Netty requires it; at 64 KiB windows an update waits for at least 66 consumed bytes.
     */
    static final float STREAM_WINDOW_UPDATE_RATIO = 0.999f;
    private static final int DEFAULT_WINDOW = 65_535;
    private static final int MAX_HEADER_LIST_SIZE = 64 * 1024;

    private final ServerPools totals;
    /** This pool's loop's {@link LoopIndex} number: its slot in the server's pool counts. */
    private final int loopIndex;
    private final Server server;
    private final Cluster cluster;
    private final Upstream upstream;
    private final EventLoop loop;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private final UpstreamProtocol protocol;
    private Bootstrap bootstrap;
    private Duration bootstrapTimeout;
    private final List<Http2ServerConnection> connections = new ArrayList<>(2);
    private final PoolWaiters waiters;
    /** Connections opened and not closed yet, starting or not: what max_connections_per_loop limits. */
    private int open;
    private int connecting;
    private boolean retired;
    private boolean warnedAlpn;
    /** Set for a pool private to one client connection (send_proxy_protocol); null for a shared one. */
    private ProxyHeaderFor proxyHeader;

    Http2Pool(ServerPools totals, Upstream upstream, Server server, EventLoop loop, Transport transport,
              ByteBufAllocator allocator, UpstreamProtocol protocol) {
        this.totals = totals;
        this.loopIndex = LoopIndex.current();
        this.waiters = new PoolWaiters(totals.waiting, loopIndex, loop);
        this.server = server;
        this.cluster = upstream.cluster();
        this.upstream = upstream;
        this.loop = loop;
        this.transport = transport;
        this.allocator = allocator;
        this.protocol = protocol;
    }

    private PoolConfig config() {
        return cluster.config().pool();
    }

    /**
     * Read at each keepalive step, so that a reload changes it for open connections that ping; 0 = off (their
     * keepalive stops at its next step). Turned on by a reload, it starts on open ones ({@link #poolSettingsChanged}).
     */
    long pingInterval() {
        return config().pingInterval().toNanos();
    }

    long pingTimeout() {
        return config().pingTimeout().toNanos();
    }

    void pingTimedOut() {
        upstream.pingTimedOut();
    }

    /** Streams ended because their exchange threw (a bug): counted, so that a test or a debugger sees them. */
    long streamFailures;

    void streamFailed() {
        streamFailures++;
    }

    @Override
    public void sendProxyHeader(ProxyHeaderFor header) {
        this.proxyHeader = header;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public UpstreamProtocol protocol() {
        return protocol;
    }

    @Override
    public boolean acquire(BackendPool.Waiter w) {
        Http2ServerConnection c = withRoom();
        if (c != null) {
            openStream(c, w);
            return false;
        }
        if (server.resolved() == null) {
            w.failed(new IllegalStateException("server address not resolved"));
            return false;
        }
        // Connections being opened (or about to be) will take streams soon: their share waits beyond max_waiting.
        int opening = connecting > 0 || retired || open >= config().maxConnectionsPerLoop() ? connecting : 1;
        if (!waiters.offer(w, config().maxWaiting() + opening * MAX_STREAMS_PER_CONNECTION)) {
            w.turnedAway();
            return false;
        }
        maybeConnect();
        return true;
    }

    @Override
    public void cancel(BackendPool.Waiter w) {
        waiters.remove(w);
    }

    /** The first connection with room, oldest first: new connections only fill when the old ones are full. */
    private Http2ServerConnection withRoom() {
        for (Http2ServerConnection c : connections) {
            if (c.hasRoom() && c.channel.isActive()) {
                return c;
            }
        }
        return null;
    }

    private void maybeConnect() {
        if (connecting == 0 && !retired && open < config().maxConnectionsPerLoop() && !waiters.isEmpty()) {
            connect();
        }
    }

    private Bootstrap bootstrap() {
        Duration timeout = cluster.config().connectTimeout();
        if (bootstrap == null || !timeout.equals(bootstrapTimeout)) {
            bootstrap = ChannelOptions.upstream(loop, transport, timeout, allocator, BatchedReads.INSTANCE, false)
                    .handler(NO_HANDLERS_YET);
            bootstrapTimeout = timeout;
        }
        return bootstrap;
    }

    /** The HTTP/2 handlers go in once connected (and TLS agreed on h2), so that the preface goes to a server. */
    private static final ChannelHandler NO_HANDLERS_YET = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
            UnendedReadBatches.addTo(ch);
        }
    };

    private void connect() {
        if (log.isDebugEnabled()) {
            log.debug("opening an HTTP/2 connection to {} ({} open, {} waiting, streams {})", server, open,
                    waiters.size(), connections.stream().map(c -> c.state + ":" + c.active + "/" + c.maxStreams).toList());
        }
        open++;
        connecting++;
        // The PROXY header goes out as the connection opens: before TLS, and before the HTTP/2 preface.
        ChannelFuture f = UpstreamConnector.connect(bootstrap(), cluster, server, UpstreamConnector.Use.POOLED,
                proxyHeader == null ? null : proxyHeader::write);
        Channel ch = f.channel();
        upstream.connections().add(ch);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                connecting--;
                open--;
                connectFailed(done.cause());
                return;
            }
            if (retired) {
                // Retired while connecting (the server left): nothing may use it, and idle it would stay open.
                connecting--;
                ch.close();
                open--;
                connectFailed(new IllegalStateException("server removed while connecting"));
                return;
            }
            if (protocol == UpstreamProtocol.H2 && !UpstreamTlsContexts.negotiatedH2(ch)) {
                if (!warnedAlpn) {
                    warnedAlpn = true;
                    log.warn("cluster {}: server {} did not agree to HTTP/2 by ALPN (protocol: h2); its connections"
                            + " are closed", cluster.name(), server.label());
                }
                connecting--;
                ch.close(); // counted down by the connection's close below: not yet in the list, so here
                open--;
                connectFailed(new IllegalStateException("server did not agree to h2 by ALPN"));
                return;
            }
            start(ch);
        });
    }

    /** Puts HTTP/2 on a connected channel; it becomes usable with the server's first SETTINGS. */
    private void start(Channel ch) {
        Http2ServerConnection c = new Http2ServerConnection(ch, this);
        connections.add(c);
        Http2Settings settings = Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(STREAM_WINDOW)
                .maxHeaderListSize(MAX_HEADER_LIST_SIZE);
        Http2Flushes.addLast(ch.pipeline());
        ch.pipeline().addLast("h2", new ClientCodecBuilder().initialSettings(settings).build());
        ch.pipeline().addLast("h2-connection", c);
        ch.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - DEFAULT_WINDOW));
        // Reading never stops: what a stream may hold is bounded by its window, not by the socket.
        ch.config().setAutoRead(true);
        long timeout = cluster.config().connectTimeout().toNanos();
        loop.schedule(() -> {
            if (c.state == Http2ServerConnection.State.STARTING) {
                log.debug("no SETTINGS from {} in time", ch);
                ch.close();
            }
        }, timeout, TimeUnit.NANOSECONDS);
    }

    /** Netty's frame codec, client side ({@link Http2CodecBuilder}). */
    private static final class ClientCodecBuilder extends Http2CodecBuilder {
        ClientCodecBuilder() {
            // Every request's X-Request-Id is new: indexed, each one would go into HPACK's dynamic table and push
            // out an entry that later requests could have reused. Sent as a literal never indexed instead.
            super(false, (name, value) -> HeaderPolicy.X_REQUEST_ID.contentEquals(name));
            // A builder given its codec takes itself for a server's (isServer() defaults to true), and turns on the
            // server's guard against RST_STREAM floods (rapid reset) in the decoder. Off, as forClient() has it. (The
            // encoder's, which would count Sluice's own resets, is not put around a given codec.)
            decoderEnforceMaxRstFramesPerWindow(0, 0);
            // Streams only: the controller's connection state is made now with Netty's default ratio, and the
            // connection window, as large as all streams' together, never runs out before theirs.
            DefaultHttp2LocalFlowController local = new DefaultHttp2LocalFlowController(connection());
            local.windowUpdateRatio(STREAM_WINDOW_UPDATE_RATIO);
            connection().local().flowController(local);
        }
    }

    private void connectFailed(Throwable cause) {
        // Waiting requests go elsewhere when this server has no other connection to offer them.
        if (connections.isEmpty()) {
            BackendPool.Waiter w;
            while ((w = waiters.poll()) != null) {
                w.failed(cause);
            }
        } else {
            maybeConnect();
        }
    }

    /** The server's SETTINGS came: the connection may have become usable, or allow more or fewer streams. */
    void settings(Http2ServerConnection c, Long maxConcurrentStreams) {
        log.debug("SETTINGS from {}: max_concurrent_streams {}", c.channel, maxConcurrentStreams);
        if (maxConcurrentStreams != null) {
            c.maxStreams = (int) Math.min(maxConcurrentStreams, MAX_STREAMS_PER_CONNECTION);
        }
        if (c.state == Http2ServerConnection.State.STARTING) {
            connecting--;
            if (maxConcurrentStreams == null) {
                c.maxStreams = MAX_STREAMS_PER_CONNECTION; // the server sets no limit
            }
            c.state = Http2ServerConnection.State.READY;
            idle(c, true);
            c.startKeepalive();
        }
        serveWaiters();
    }

    private void serveWaiters() {
        while (!waiters.isEmpty()) {
            Http2ServerConnection c = withRoom();
            if (c == null) {
                maybeConnect();
                return;
            }
            openStream(c, waiters.poll());
        }
    }

    private void openStream(Http2ServerConnection c, BackendPool.Waiter w) {
        idle(c, false);
        c.active++;
        c.opened++;
        int max = config().maxRequestsPerConnection();
        if (max > 0 && c.opened >= max) {
            leave(c, Http2ServerConnection.State.DRAINING);
        }
        Http2Stream s = c.newStream(server);
        totals.inUse.increment(loopIndex);
        w.ready(s);
    }

    /** The attempt is done with the stream: it is reset if it is not over (RST_STREAM CANCEL). */
    @Override
    public void release(BackendConnection c, boolean reusable) {
        totals.inUse.decrement(loopIndex);
        c.attempt = null;
        ((Http2Stream) c).cancel();
    }

    /** Streams never become tunnels (HTTP/2 has no 101); given back like any other. */
    @Override
    public void detach(BackendConnection c) {
        // A stream's channel is the connection all its streams share: a tunnel must never take it over or close
        // it. Unreachable (a 101 from an HTTP/2 server is refused), so loud rather than quiet.
        throw new IllegalStateException("an HTTP/2 stream cannot be detached from its shared connection");
    }

    /** The stream is over for the attempt and for Netty: its place on the connection is free. */
    @Override
    public void closed(BackendConnection c) {
        streamEnded(((Http2Stream) c).connection);
    }

    private void streamEnded(Http2ServerConnection c) {
        c.active--;
        if (c.active == 0) {
            if (c.state == Http2ServerConnection.State.DRAINING) {
                c.channel.close();
            } else if (c.state == Http2ServerConnection.State.READY) {
                idle(c, true);
            }
        }
        serveWaiters();
    }

    /** GOAWAY from the server: no new streams here; the connection closes when its last stream ends. */
    void drain(Http2ServerConnection c) {
        leave(c, Http2ServerConnection.State.DRAINING);
        if (c.active == 0) {
            c.channel.close();
        }
        maybeConnect();
    }

    void connectionClosed(Http2ServerConnection c) {
        if (connections.remove(c)) {
            open--;
        }
        leave(c, Http2ServerConnection.State.CLOSED);
        if (connections.isEmpty() && connecting == 0 && !waiters.isEmpty()) {
            // Closed before it could serve them (no SETTINGS, or a GOAWAY at once): they go elsewhere.
            connectFailed(new IllegalStateException("HTTP/2 connection closed before it took streams"));
        } else {
            maybeConnect();
        }
    }

    /** The connection takes no new streams from now on. */
    private void leave(Http2ServerConnection c, Http2ServerConnection.State next) {
        if (c.state == Http2ServerConnection.State.STARTING) {
            connecting--;
        }
        idle(c, false);
        if (c.state != Http2ServerConnection.State.CLOSED) {
            c.state = next;
        }
    }

    private void idle(Http2ServerConnection c, boolean idle) {
        if (c.idle != idle) {
            c.idle = idle;
            if (idle) {
                totals.idle.increment(loopIndex);
                c.idleSince = LoopTime.nanoTime();
                scheduleIdleCheck(c, config().maxIdleTime().toNanos());
            } else {
                totals.idle.decrement(loopIndex);
            }
        }
    }

    private void scheduleIdleCheck(Http2ServerConnection c, long nanos) {
        if (c.idleCheckScheduled) {
            return;
        }
        c.idleCheckScheduled = true;
        loop.schedule(() -> {
            c.idleCheckScheduled = false;
            if (!c.idle) {
                return;
            }
            long left = config().maxIdleTime().toNanos() - (System.nanoTime() - c.idleSince);
            if (left <= 0) {
                c.channel.close();
            } else {
                scheduleIdleCheck(c, left);
            }
        }, Math.max(1, nanos), TimeUnit.NANOSECONDS);
    }

    /** {@code ping_interval} may have been turned on: connections that take or have streams start to ping. */
    @Override
    public void poolSettingsChanged() {
        for (Http2ServerConnection c : connections) {
            if (c.state == Http2ServerConnection.State.READY || c.state == Http2ServerConnection.State.DRAINING) {
                c.startKeepalive();
            }
        }
    }

    @Override
    public void retire() {
        retired = true;
        for (Http2ServerConnection c : List.copyOf(connections)) {
            leave(c, Http2ServerConnection.State.DRAINING);
            if (c.active == 0) {
                c.channel.close();
            }
        }
    }
}
