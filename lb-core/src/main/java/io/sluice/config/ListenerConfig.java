package io.sluice.config;

import java.time.Duration;

/**
 * One bound socket and where its traffic goes.
 *
 * @param idleTimeout    a connection with no bytes either way for this long is closed; ZERO = never
 * @param maxConnections connections beyond this are accepted and closed at once; 0 = unlimited
 */
public record ListenerConfig(String name, HostPort bind, Protocol protocol, String cluster, Duration idleTimeout,
                             int maxConnections, int backlog) {

    public enum Protocol {
        TCP
    }
}
