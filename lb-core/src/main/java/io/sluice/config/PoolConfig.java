package io.sluice.config;

import java.time.Duration;

/**
 * Backend connection pool of a cluster, used by HTTP listeners. There is one pool per server and per event
 * loop, so the limits apply per loop.
 *
 * @param maxConnectionsPerLoop     open connections to one server from one event loop; requests beyond wait
 * @param maxIdleTime               an idle pooled connection is closed after this long
 * @param maxRequestsPerConnection  a connection is closed after serving this many requests; 0 = unlimited
 * @param pingInterval              HTTP/2 connections ({@code protocol: h2 | h2c}) that read nothing for this long
 *                                  send the server a PING; 0 = never
 * @param pingTimeout               a PING unanswered (by its ACK or any other frame) for this long closes the
 *                                  connection: a server or path that died silently is found before a request is
 *                                  sent into it
 * @param maxWaiting                requests waiting for a connection to one server on one event loop; beyond
 *                                  it a request is answered 503 at once
 */
public record PoolConfig(int maxConnectionsPerLoop, Duration maxIdleTime, int maxRequestsPerConnection,
                         Duration pingInterval, Duration pingTimeout, int maxWaiting) {

    public static final int DEFAULT_MAX_CONNECTIONS_PER_LOOP = 64;
    public static final Duration DEFAULT_MAX_IDLE_TIME = Duration.ofSeconds(60);
    /** Unlimited. */
    public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = 0;
    /** Off, as in Envoy and gRPC: idle connections are closed by max_idle_time, and TCP sees most failures. */
    public static final Duration DEFAULT_PING_INTERVAL = Duration.ZERO;
    /** gRPC's keepalive timeout: long enough for a busy server, short enough to matter. */
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(20);
    /**
     * Far above a normal burst (2,000 clients at once on a pool of 8 wait fine), so that only a server that stopped
     * answering, or a flood, meets it: then each loop holds at most this many waiting requests per server
     * instead of any number, and the rest get 503 at once rather than after connect_timeout.
     */
    public static final int DEFAULT_MAX_WAITING = 4096;
    public static final PoolConfig DEFAULT = new PoolConfig(DEFAULT_MAX_CONNECTIONS_PER_LOOP, DEFAULT_MAX_IDLE_TIME,
            DEFAULT_MAX_REQUESTS_PER_CONNECTION, DEFAULT_PING_INTERVAL, DEFAULT_PING_TIMEOUT, DEFAULT_MAX_WAITING);

    public PoolConfig(int maxConnectionsPerLoop, Duration maxIdleTime, int maxRequestsPerConnection) {
        this(maxConnectionsPerLoop, maxIdleTime, maxRequestsPerConnection, DEFAULT_PING_INTERVAL,
                DEFAULT_PING_TIMEOUT, DEFAULT_MAX_WAITING);
    }
}
