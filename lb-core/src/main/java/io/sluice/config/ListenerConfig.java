package io.sluice.config;

import java.time.Duration;

/**
 * One bound socket and where its traffic goes.
 *
 * @param idleTimeout    a connection with no bytes either way for this long is closed; ZERO = never
 * @param maxConnections connections beyond this are accepted and closed at once; 0 = unlimited
 * @param splice         join client and server sockets with Linux splice(2) (epoll transport only)
 */
public record ListenerConfig(String name, HostPort bind, Protocol protocol, String cluster, Duration idleTimeout,
                             int maxConnections, boolean splice, int backlog) {

    public enum Protocol {
        TCP
    }
}
