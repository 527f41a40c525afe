package io.sluice.l4;

import io.sluice.net.ConnectionTimeouts;
import io.sluice.net.BatchedReads;
import io.sluice.net.Admission;
import io.sluice.net.ClientLimits;
import io.sluice.net.ProxyProtocolStage;
import io.sluice.net.ProxyProtocolStats;
import io.sluice.config.ProxyProtocolConfig;
import io.sluice.net.ChannelOptions;
import io.sluice.net.ListeningSocket;
import io.sluice.net.ListenerStats;
import io.sluice.net.ConnectionSetUp;
import io.sluice.net.Listener;
import io.sluice.cluster.LoopChannels;
import io.sluice.net.Transport;
import io.sluice.net.UpstreamDialer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.sluice.cluster.Cluster;
import io.sluice.config.ListenerConfig;
import io.sluice.tls.SniPeek;
import io.sluice.tls.ServerTls;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A bound TCP listener that relays every accepted connection to a server of its cluster. */
public final class TcpListener implements Listener {
    private static final Logger log = LoggerFactory.getLogger(TcpListener.class);

    /**
     * The relay's reads: adaptive sizes up to {@link BatchedReads#MAX_READ_BUFFER}, and the transport's usual loop
     * of up to 16 reads while the socket has more and reading is on (fewer than that cost more CPU per MiB).
     */
    static final RecvByteBufAllocator RELAY_READS = BatchedReads.adaptiveSizes().maxMessagesPerRead(16);

    /** Read once per accepted connection: a reload changes what later connections get, never earlier ones. */
    private volatile Settings settings;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private final ListenerStats stats = new ListenerStats();
    private final PassthroughStats passthrough = new PassthroughStats();
    private final ProxyProtocolStats proxyStats = new ProxyProtocolStats();
    private volatile Admission admission;
    /** Kept across reloads: connections open now are released into the same counts. */
    private final ClientLimits clientLimits = new ClientLimits(stats);
    /** Per listener, so that what splice: true opens and counts is this listener's alone; unused otherwise. */
    private final Splicer splicer;
    /** Client and server channels both, so that shutdown closes every one while the event loops still run. */
    private final LoopChannels connections = new LoopChannels();
    private final ListeningSocket socket = new ListeningSocket(false);
    /**
     * On io_uring the listener accepts without a Netty server channel and relays plain connections without
     * channels ({@link UringConnection}); null on epoll and NIO, or with {@code runtime.tcp_relay: channels}.
     */
    private final UringListenSocket uringSocket;
    /** How a connection that needs Netty's pipeline is set up when {@link #uringSocket} accepted it. */
    private volatile UringAdoption adoption;
    /** TLS offload, null on a plain listener: the relay then carries the decrypted bytes. Never with splice. */
    private final ServerTls tls;
    /** Opens the server side of every connection, on the client's loop; half-closes are passed on. */
    private final UpstreamDialer dialer;

    /**
     * {@code clusters} holds the listener's cluster and every cluster its SNI routes name; {@code tls} is null on a
     * plain listener.
     */
    public TcpListener(ListenerConfig config, Map<String, Cluster> clusters, Transport transport,
                       ByteBufAllocator allocator, ServerTls tls, boolean rawRelay) {
        if (tls != null && config.splice()) {
            throw new IllegalArgumentException("listener " + config.name() + ": splice cannot carry TLS");
        }
        this.tls = tls;
        this.settings = settings(config, clusters);
        this.transport = transport;
        this.allocator = allocator;
        this.admission = admission(config);
        this.splicer = new Splicer(config.idleTimeout());
        this.dialer = new UpstreamDialer(transport, allocator, RELAY_READS, true);
        this.uringSocket = rawRelay && UringAdoption.usable(transport, allocator) ? new UringListenSocket() : null;
    }

    /** What a connection is accepted under: the listener's settings and its clusters, replaced together. */
    private record Settings(ListenerConfig config, SniRoutes routes, boolean plain) {
        Settings(ListenerConfig config, SniRoutes routes, ServerTls tls) {
            this(config, routes, tls == null && config.proxyProtocol() == null && !config.splice() && !routes.peeks());
        }

        Cluster cluster() {
            return routes.fallback().cluster();
        }

        /**
         * Whether the raw relay can carry a connection accepted now: a plain listener (no TLS offload, PROXY
         * header, SNI peek or splice) to a cluster that neither speaks TLS nor sends a PROXY header. Read per
         * connection, since a reload changes a cluster in place.
         */
        boolean relayRaw() {
            Cluster c = cluster();
            return plain && c.security() == null && c.config().sendProxyProtocol() == null;
        }
    }

    private Settings settings(ListenerConfig config, Map<String, Cluster> clusters) {
        return new Settings(config, new SniRoutes(config, name -> {
            Cluster c = clusters.get(name);
            if (c == null) {
                throw new IllegalArgumentException("listener " + config.name() + ": no cluster " + name);
            }
            return c;
        }, passthrough), tls);
    }

    /**
     * Takes new settings (clusters, SNI routes, timeouts, limits) for connections accepted from now on; the listening socket
     * and the connections already open are untouched. The bind address and protocol never change here: a
     * reload that changes them replaces the listener.
     */
    public void reconfigure(ListenerConfig next, Map<String, Cluster> clusters) {
        ListenerConfig old = settings.config();
        if (!old.bind().equals(next.bind()) || old.protocol() != next.protocol() || old.splice() != next.splice()) {
            throw new IllegalArgumentException("listener " + old.name() + ": bind, protocol and splice need a new listener");
        }
        admission = admission(next);
        splicer.idleTimeout(next.idleTimeout());
        settings = settings(next, clusters);
    }

    /** Each connection is one of its client's requests for {@code requests_per_second_per_ip}. */
    private Admission admission(ListenerConfig config) {
        clientLimits.configure(config.limits());
        return new Admission(stats, config.maxConnections(), clientLimits, true);
    }

    @Override
    public void start(EventLoopGroup workers) throws InterruptedException {
        bind(workers);
    }

    private void bind(EventLoopGroup workers) throws InterruptedException {
        ListenerConfig config = settings.config();
        ServerBootstrap b = ChannelOptions.listener(config, transport, workers, allocator, RELAY_READS)
                .childHandler(new ConnectionSetUp(connections, transport) {
                    @Override
                    protected void setUp(Channel ch) {
                        Settings now = settings;
                        ProxyProtocolConfig proxy = now.config().proxyProtocol();
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
        log.info("listener {} on {}:{} -> cluster {} ({}{}{})", config.name(), a.getHostString(), a.getPort(),
                settings.cluster().name(), transport.name(), uringSocket != null ? ", raw relay" : "",
                tls != null ? ", TLS offload" : "");
    }

    /** A connection {@link #uringSocket} accepted, on the loop that accepted it. */
    private void accepted(int fd, UringAcceptor acceptor) {
        Settings now = settings;
        if (now.relayRaw()) {
            UringConnection.start(acceptor, fd, now.cluster(), admission, connections, allocator,
                    now.config().idleTimeout().toNanos());
        } else {
            adoption.adopt(fd, acceptor.loop());
        }
    }

    /** The connection's own handlers: at accept, or once its PROXY header is read. */
    private void install(Channel ch, Settings now) {
        if (tls != null) {
            tls.install(ch.pipeline());
        }
        long idleMillis = now.config().idleTimeout().toMillis();
        ConnectionTimeouts timeouts = null;
        if (idleMillis > 0) {
            timeouts = ConnectionTimeouts.idle(TimeUnit.MILLISECONDS.toNanos(idleMillis));
            ch.pipeline().addLast("idle", timeouts);
        }
        // Behind TLS offload the bytes are decrypted: there is no ClientHello to read.
        boolean peek = tls == null && now.routes().peeks();
        if (peek) {
            ch.pipeline().addLast("sni", new SniPeek(now.routes().peekTimeoutMillis()));
        }
        ch.pipeline().addLast("connect", new ClientHandler(TcpListener.this, now.routes(),
                now.config().splice(), peek, tls != null, timeouts));
    }

    /** Stops accepting; open connections carry on. */
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
    }

    /** Closes every open client and server connection and waits until they are closed. */
    @Override
    public void closeConnections() {
        connections.close(null, 5, TimeUnit.SECONDS);
    }

    /** Client and server channels, and raw relay connections, open now: for tests. */
    LoopChannels connections() {
        return connections;
    }

    void track(Channel serverSide) {
        connections.add(serverSide);
    }

    /** The listener is gone for good (shutdown, or a reload removed it): its splice pipes go too. */
    @Override
    public void close() {
        splicer.close();
        if (tls != null) {
            tls.close();
        }
    }

    /** Whether this listener accepts on io_uring itself, relaying plain connections without channels. */
    public boolean rawRelay() {
        return uringSocket != null;
    }

    /** TLS offload, or null on a plain listener. */
    public ServerTls tls() {
        return tls;
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
    public ListenerConfig config() {
        return settings.config();
    }

    @Override
    public String name() {
        return settings.config().name();
    }

    public Cluster cluster() {
        return settings.cluster();
    }

    /** What SNI passthrough did, by route and result. */
    public PassthroughStats passthrough() {
        return passthrough;
    }

    /**
     * The passthrough series worth exporting now: none when this listener reads no ClientHello (no SNI routes,
     * no {@code passthrough_require_tls}, no {@code hash_key: sni} on its cluster).
     */
    public List<PassthroughStats.Series> passthroughSeries() {
        SniRoutes routes = settings.routes();
        return routes.peeks() ? routes.series() : List.of();
    }

    /** Connections closed over their PROXY protocol header. */
    public ProxyProtocolStats proxyProtocolStats() {
        return proxyStats;
    }

    Admission admission() {
        return admission;
    }

    @Override
    public ListenerStats stats() {
        return stats;
    }

    UpstreamDialer dialer() {
        return dialer;
    }

    Splicer splicer() {
        return splicer;
    }
}
