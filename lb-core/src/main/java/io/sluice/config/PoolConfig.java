package io.sluice.config;

import java.time.Duration;

/**
 * Backend connection pool of a cluster, used by HTTP listeners. There is one pool per server and per event
 * loop, so the limits apply per loop.
 *
 * @param maxConnectionsPerLoop     open connections to one server from one event loop; requests beyond wait
 * @param maxIdleTime               an idle pooled connection is closed after this long
 * @param maxRequestsPerConnection  a connection is closed after serving this many requests; 0 = unlimited
 * @param maxWaiting                requests waiting for a connection to one server on one event loop; beyond
 *                                  it a request is answered 503 at once
 */
public record PoolConfig(int maxConnectionsPerLoop, Duration maxIdleTime, int maxRequestsPerConnection,
                         int maxWaiting) {

    public static final int DEFAULT_MAX_CONNECTIONS_PER_LOOP = 64;
    public static final Duration DEFAULT_MAX_IDLE_TIME = Duration.ofSeconds(60);
    /** Unlimited. */
    public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = 0;
    /**
     * Far above a normal burst (2,000 clients at once on a pool of 8 wait fine), so that only a server that stopped
     * answering, or a flood, meets it: then each loop holds at most this many waiting requests per server
     * instead of any number, and the rest get 503 at once rather than after connect_timeout.
     */
    public static final int DEFAULT_MAX_WAITING = 4096;
    public static final PoolConfig DEFAULT = new PoolConfig(DEFAULT_MAX_CONNECTIONS_PER_LOOP, DEFAULT_MAX_IDLE_TIME,
            DEFAULT_MAX_REQUESTS_PER_CONNECTION, DEFAULT_MAX_WAITING);

    public PoolConfig(int maxConnectionsPerLoop, Duration maxIdleTime, int maxRequestsPerConnection) {
        this(maxConnectionsPerLoop, maxIdleTime, maxRequestsPerConnection, DEFAULT_MAX_WAITING);
    }
}
