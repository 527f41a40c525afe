package io.sluice.http;

import io.sluice.config.ProxyProtocolConfig;
import io.sluice.net.ProxyProtocolStage;
import io.sluice.net.ProxyProtocolStats;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.sluice.config.HttpConfig;
import io.sluice.config.HttpFront;
import io.sluice.config.ListenerConfig;
import io.sluice.net.Admission;
import io.sluice.net.ClientLimits;
import io.sluice.net.BatchedReads;
import io.sluice.net.ChannelOptions;
import io.sluice.net.ListeningSocket;
import io.sluice.net.ConnectionTimeouts;
import io.sluice.net.Listener;
import io.sluice.cluster.LoopChannels;
import io.sluice.net.ListenerStats;
import io.sluice.net.Transport;
import io.sluice.net.ConnectionSetUp;
import io.sluice.tls.ServerTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.sluice.l4.UringAcceptor;
import io.sluice.l4.UringAdoption;
import io.sluice.l4.UringListenSocket;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener with {@code protocol: http}: an HTTP/1.1 and HTTP/2 reverse proxy in front of its routes' clusters.
 */
public final class HttpListener implements Listener {
    private static final Logger log = LoggerFactory.getLogger(HttpListener.class);

    /** Read by each new connection; a reload replaces it, connections already open keep what they read. */
    private volatile ListenerConfig config;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private volatile RouteTable routes;
    private final ListenerStats stats = new ListenerStats();
    private final ProxyProtocolStats proxyStats = new ProxyProtocolStats();
    private volatile Admission admission;
    /** Kept across reloads: connections open now are released into the same counts. */
    private final ClientLimits clientLimits = new ClientLimits(stats);
    /** Cloned for each connection: the decoder's limits as configured now. */
    private volatile HttpDecoderConfig decoderTemplate;
    private final HttpListenerStats httpStats = new HttpListenerStats();
    private volatile RetryBudget retryBudget;
    private final LoopChannels clients = new LoopChannels();
    private final ListeningSocket socket = new ListeningSocket(true);
    /**
     * With {@code runtime.http_front: auto} (the default) on io_uring, a plain listener accepts without a Netty
     * server channel and serves plain requests without channels ({@link UringHttpConnection}); null otherwise.
     */
    private final UringListenSocket uringSocket;
    /** How a connection {@link #uringSocket} accepted becomes a channel when it needs the channel path. */
    private volatile UringAdoption adoption;
    /** Null when the listener has no access log. */
    private volatile AccessLog accessLog;
    /** TLS termination, null on a plain listener; whether there is one never changes for a listener. */
    private final ServerTls tls;
    private final FrontProtocols protocols = new FrontProtocols(this);
    /** One for the listener rather than a lambda per connection. */
    private final Runnable countSendTimeout = () -> httpStats.count(ErrorReason.SEND_TIMEOUT);

    /** Connections closed over their PROXY protocol header. */
    public ProxyProtocolStats proxyProtocolStats() {
        return proxyStats;
    }

    public HttpListener(ListenerConfig config, Map<String, Upstream> upstreams, Transport transport,
                        ByteBufAllocator allocator) {
        this(config, upstreams, transport, allocator, null, false);
    }

    public HttpListener(ListenerConfig config, Map<String, Upstream> upstreams, Transport transport,
                        ByteBufAllocator allocator, ServerTls tls, boolean rawFront) {
        this.config = config;
        this.tls = tls;
        this.transport = transport;
        this.allocator = allocator;
        this.routes = new RouteTable(config, upstreams);
        this.retryBudget = new RetryBudget(config.http().retryBudget());
        this.admission = admission(config);
        this.decoderTemplate = decoderConfig(config);
        this.uringSocket = tls == null && rawFront && UringAdoption.usable(transport, allocator)
                ? new UringListenSocket(true) : null;
    }

    /** Whether HTTP listeners may serve plain connections without channels, as {@code runtime.http_front} says. */
    public static boolean rawFrontAllowed(HttpFront front) {
        return front == HttpFront.AUTO && !UringHttpConnection.vetoed();
    }

    private Admission admission(ListenerConfig config) {
        clientLimits.configure(config.limits());
        return new Admission(stats, config.maxConnections(), clientLimits, false);
    }

    /** Requests per client ({@code requests_per_second_per_ip}); connections are held to theirs at admission. */
    ClientLimits clientLimits() {
        return clientLimits;
    }

    private static HttpDecoderConfig decoderConfig(ListenerConfig config) {
        return HttpFrontCodecs.strict(new HttpDecoderConfig())
                .setMaxInitialLineLength(config.http().maxRequestLine())
                .setMaxHeaderSize(config.http().maxHeaderSize());
    }

    /** The open client connections (for tests). */
    LoopChannels clients() {
        return clients;
    }

    @Override
    public void start(EventLoopGroup workers) throws InterruptedException {
        accessLog = openAccessLog(config);
        bind(workers);
    }

    private void bind(EventLoopGroup workers) throws InterruptedException {
        ServerBootstrap b = ChannelOptions.listener(config, transport, workers, allocator, BatchedReads.INSTANCE)
                .childHandler(new ConnectionSetUp(clients, transport) {
                    @Override
                    protected void setUp(Channel ch) {
                        ListenerConfig now = config;
                        ProxyProtocolConfig proxy = now.proxyProtocol();
                        if (proxy != null) {
                            // The PROXY header comes before anything else, a ClientHello too.
                            ProxyProtocolStage.addTo(ch.pipeline(), proxy, admission, proxyStats,
                                    c -> install(c, now));
                        } else {
                            install(ch, now);
                        }
                    }
                });
        if (uringSocket != null) {
            adoption = new UringAdoption(b);
            uringSocket.bind(config, workers, this::accepted);
        } else {
            socket.bind(b, config.bind());
        }
        InetSocketAddress a = localAddress();
        log.info("http{} listener {} on {}:{} -> {} route(s), default cluster {} ({}{})", tls != null ? "s" : "",
                config.name(), a.getHostString(), a.getPort(), config.routes().size(), config.cluster(),
                transport.name(), uringSocket != null ? ", raw front" : "");
    }

    /** A connection {@link #uringSocket} accepted, on the loop that accepted it. */
    private void accepted(int fd, UringAcceptor acceptor) {
        if (config.proxyProtocol() == null && !sendsProxyHeaders()) {
            UringHttpConnection.start(this, acceptor, fd, admission, clients, allocator);
        } else {
            adoption.adopt(fd, acceptor.loop());
        }
    }

    /** Whether a cluster of this listener's routes sends PROXY headers: its server connections are per client. */
    boolean sendsProxyHeaders() {
        return routes.anySendsProxyHeaders();
    }

    /**
     * Takes over a connection {@link UringHttpConnection} served so far: a channel with the listener's handlers,
     * counted as admitted already ({@code release} gives its per-client share back when it closes), and then
     * {@code bytes} (may be null), read but not yet served, as if just read from it.
     */
    void adoptRawConnection(int fd, InetSocketAddress remote, IoEventLoop loop, Runnable release, ByteBuf bytes) {
        Admission a = admission;
        adoption.adopt(fd, remote, loop, ch -> a.handOver(ch, release), ch -> {
            if (bytes != null) {
                ch.pipeline().fireChannelRead(bytes);
                ch.pipeline().fireChannelReadComplete();
            }
        }, () -> {
            if (bytes != null) {
                bytes.release();
            }
            a.closed();
            release.run();
        });
    }

    /** The connection's own handlers: at accept, or once its PROXY header is read. */
    private void install(Channel ch, ListenerConfig config) {
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            tls.install(p);
        }
        long idleNanos = TimeUnit.MILLISECONDS.toNanos(config.idleTimeout().toMillis());
        long sendNanos = TimeUnit.MILLISECONDS.toNanos(config.http().sendTimeout().toMillis());
        if (idleNanos > 0 || sendNanos > 0) {
            // Before the protocol handlers: it watches the socket, whichever protocol ALPN or the preface picks.
            p.addLast("timeouts", new ConnectionTimeouts(idleNanos, sendNanos, countSendTimeout));
        }
        if (tls != null) {
            // The protocol is known once ALPN has spoken: the handshake comes first.
            p.addLast("alpn", new AlpnSwitch(protocols, admission));
            return;
        }
        protocols.http1(p, config.http().h2c());
    }

    /**
     * Takes new settings (routes, HTTP limits, timeouts, clusters) for connections and requests from now on;
     * the listening socket stays open, so no client is refused during the change. Requests in flight finish
     * on the routes they were matched to.
     */
    public synchronized void reconfigure(ListenerConfig next, Map<String, Upstream> upstreams) {
        ListenerConfig old = config;
        if (!old.bind().equals(next.bind()) || old.protocol() != next.protocol()) {
            throw new IllegalArgumentException("listener " + old.name() + ": bind and protocol need a new listener");
        }
        if (!java.util.Objects.equals(old.http().accessLog(), next.http().accessLog())) {
            AccessLog previous = accessLog;
            accessLog = openAccessLog(next);
            if (previous != null) {
                previous.close();
            }
        }
        routes = new RouteTable(next, upstreams, routes);
        if (old.http().retryBudget() != next.http().retryBudget()) {
            retryBudget = new RetryBudget(next.http().retryBudget(), retryBudget);
        }
        admission = admission(next);
        decoderTemplate = decoderConfig(next);
        config = next;
    }

    private static AccessLog openAccessLog(ListenerConfig config) {
        if (config.http().accessLog() == null) {
            return null;
        }
        try {
            return new AccessLog(config.http().accessLog(), config.name());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("access log " + config.http().accessLog().path(), e);
        }
    }

    /**
     * Stops accepting and starts draining: idle keep-alive connections close now (they would otherwise hold
     * the drain open until their timeout), busy ones after their current response, which says Connection:
     * close when its head is not yet sent.
     */
    @Override
    public void pauseAccepting() {
        closeSocket();
    }

    private void closeSocket() {
        if (uringSocket != null) {
            uringSocket.close();
        } else {
            socket.close();
        }
    }

    @Override
    public void resumeAccepting(EventLoopGroup workers) throws InterruptedException {
        bind(workers);
    }

    @Override
    public void stopAccepting() {
        closeSocket();
        // Two passes: every connection is told to close after its response before any idle one is closed, so
        // that a client seeing its idle connection close knows the busy ones are draining too.
        clients.forEach(ch -> {
            HttpFrontHandler front = ch.pipeline().get(HttpFrontHandler.class);
            if (front != null) {
                front.closeAfterResponse();
            }
            Http2FrontConnection h2 = ch.pipeline().get(Http2FrontConnection.class);
            if (h2 != null) {
                h2.drain(); // GOAWAY: open streams finish, no new ones
            }
        }, m -> ((UringHttpConnection) m).drain(), 1, TimeUnit.SECONDS);
        clients.forEach(ch -> {
            HttpFrontHandler front = ch.pipeline().get(HttpFrontHandler.class);
            if (front != null) {
                front.closeIfIdle();
            }
        }, m -> ((UringHttpConnection) m).closeIfIdle(), 1, TimeUnit.SECONDS);
    }

    @Override
    public void closeConnections() {
        clients.close(ch -> {
            Http2FrontConnection h2 = ch.pipeline().get(Http2FrontConnection.class);
            if (h2 != null) {
                h2.closeNow(); // a graceful close would wait for its streams
            }
        }, 5, TimeUnit.SECONDS);
    }

    @Override
    public InetSocketAddress localAddress() {
        return uringSocket != null ? uringSocket.localAddress() : socket.localAddress();
    }

    @Override
    public boolean bound() {
        return uringSocket != null ? uringSocket.bound() : socket.bound();
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public ListenerStats stats() {
        return stats;
    }

    /** For a TLS listener's ALPN handler: installs HTTP/1.1 or HTTP/2 on a connection. */
    public FrontProtocols protocols() {
        return protocols;
    }

    HttpDecoderConfig decoderTemplate() {
        return decoderTemplate;
    }

    Admission admission() {
        return admission;
    }

    public HttpListenerStats httpStats() {
        return httpStats;
    }

    AccessLog accessLog() {
        return accessLog;
    }

    /** Access log lines dropped because the writer could not keep up. */
    public long accessLogDropped() {
        AccessLog l = accessLog;
        return l == null ? 0 : l.dropped();
    }

    @Override
    public void close() {
        if (accessLog != null) {
            accessLog.close();
        }
        if (tls != null) {
            tls.close();
        }
    }

    /** TLS termination, or null on a plain listener. */
    public ServerTls tls() {
        return tls;
    }

    RetryBudget retryBudget() {
        return retryBudget;
    }

    /** Requests sent again after a connection failed before the response. */
    public long retries() {
        return retryBudget.retries();
    }

    public RouteTable routes() {
        return routes;
    }

    public ListenerConfig config() {
        return config;
    }
}
