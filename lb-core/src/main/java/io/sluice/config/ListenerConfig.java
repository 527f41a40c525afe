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
 */
public record ListenerConfig(String name, HostPort bind, Protocol protocol, String cluster, Duration idleTimeout,
                             int maxConnections, int backlog, HttpConfig http,
                             List<RouteConfig> routes, boolean splice) {

    public static final Protocol DEFAULT_PROTOCOL = Protocol.TCP;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
    /** Unlimited. */
    public static final int DEFAULT_MAX_CONNECTIONS = 0;
    public static final int DEFAULT_BACKLOG = 1024;
    public static final boolean DEFAULT_SPLICE = false;

    public ListenerConfig {
        routes = List.copyOf(routes);
    }

    public enum Protocol {
        TCP, HTTP
    }
}
