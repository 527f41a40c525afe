package io.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * One bound socket and where its traffic goes.
 *
 * @param idleTimeout    a connection with no bytes either way for this long is closed; ZERO = never
 * @param maxConnections connections beyond this are accepted and closed at once; 0 = unlimited
 * @param http           HTTP settings (used with protocol HTTP)
 * @param routes         HTTP routes in order, first match wins; {@code cluster} takes the rest
 * @param splice         a TCP listener joins the two sockets with splice(2) instead of relaying buffers
 * @param tls            TLS termination, or null for a plain listener
 * @param sniRoutes      a TCP listener without {@code tls} routes by the SNI of the ClientHello, first match wins;
 *                       {@code cluster} takes the rest and clients that send no SNI
 * @param tlsPeekTimeout how long a TCP listener that reads the ClientHello waits for it before closing
 * @param passthroughRequireTls a TCP listener that reads the ClientHello closes clients whose first bytes are
 *                       not TLS, instead of sending them to {@code cluster}
 * @param http2          HTTP/2 limits (used with protocol HTTP)
 * @param proxyProtocol  PROXY protocol headers accepted from trusted balancers in front, or null when off
 * @param udp            flow settings of a {@code protocol: udp} listener; null for tcp and http
 * @param limits         what one client address may do (connections, request rate); {@link ClientLimitsConfig#NONE}
 *                       when off
 */
public record ListenerConfig(String name, HostPort bind, Protocol protocol, String cluster, Duration idleTimeout,
                             int maxConnections, int backlog, HttpConfig http,
                             List<RouteConfig> routes, boolean splice, TlsConfig tls, List<SniRoute> sniRoutes,
                             Duration tlsPeekTimeout, boolean passthroughRequireTls, Http2Config http2,
                             ProxyProtocolConfig proxyProtocol, UdpConfig udp,
                             ClientLimitsConfig limits) {

    public static final Protocol DEFAULT_PROTOCOL = Protocol.TCP;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** Unlimited. */
    public static final int DEFAULT_MAX_CONNECTIONS = 0;
    public static final int DEFAULT_BACKLOG = 1024;
    public static final boolean DEFAULT_SPLICE = false;
    /** Plain: no TLS termination. */
    public static final TlsConfig DEFAULT_TLS = null;
    public static final Duration DEFAULT_TLS_PEEK_TIMEOUT = Duration.ofSeconds(5);
    public static final boolean DEFAULT_PASSTHROUGH_REQUIRE_TLS = false;
    /** Off: clients are who their sockets say. */
    public static final ProxyProtocolConfig DEFAULT_PROXY_PROTOCOL = null;

    public ListenerConfig {
        routes = List.copyOf(routes);
        sniRoutes = List.copyOf(sniRoutes);
    }

    public enum Protocol {
        TCP, HTTP, UDP
    }
}
