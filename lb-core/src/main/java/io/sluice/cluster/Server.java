package io.sluice.cluster;

import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend server of one cluster and its live state. Counters are plain atomics owned here: the forwarding
 * path bumps them without locks or map lookups, and metrics read them through function meters.
 */
public final class Server {
    private final String cluster;
    private final ServerConfig config;
    private final String label;

    private volatile InetSocketAddress resolved;
    private volatile boolean healthy = true;
    private volatile boolean ejected;

    private final AtomicInteger activeConnections = new AtomicInteger();
    /** HTTP requests in flight to the server: with pooled connections, the load figure that means something. */
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final LongAdder totalConnections = new LongAdder();
    private final LongAdder connectErrors = new LongAdder();
    /** Bytes that came from the server (toward clients). */
    private final LongAdder bytesReceived = new LongAdder();
    /** Bytes written to the server (from clients). */
    private final LongAdder bytesSent = new LongAdder();

    public Server(String cluster, ServerConfig config) {
        this.cluster = cluster;
        this.config = config;
        this.label = config.label();
        HostPort a = config.address();
        if (a.isLiteral()) {
            // IP literals need no lookup: build the address now so the server is usable at once.
            this.resolved = new InetSocketAddress(a.host(), a.port());
        }
    }

    public String cluster() {
        return cluster;
    }

    public ServerConfig config() {
        return config;
    }

    public HostPort address() {
        return config.address();
    }

    public String label() {
        return label;
    }

    public int weight() {
        return config.weight();
    }

    public boolean backup() {
        return config.backup();
    }

    /** The resolved socket address, or null while a host name has not resolved. */
    public InetSocketAddress resolved() {
        return resolved;
    }

    void resolved(InetSocketAddress address) {
        this.resolved = address;
    }

    public boolean healthy() {
        return healthy;
    }

    void healthy(boolean value) {
        this.healthy = value;
    }

    public boolean ejected() {
        return ejected;
    }

    void ejected(boolean value) {
        this.ejected = value;
    }

    /** Eligible for new work: resolved, passing health checks and not ejected. */
    public boolean available() {
        return resolved != null && healthy && !ejected;
    }

    public AtomicInteger activeConnections() {
        return activeConnections;
    }

    public AtomicInteger activeRequests() {
        return activeRequests;
    }

    public LongAdder totalConnections() {
        return totalConnections;
    }

    public LongAdder connectErrors() {
        return connectErrors;
    }

    public LongAdder bytesReceived() {
        return bytesReceived;
    }

    public LongAdder bytesSent() {
        return bytesSent;
    }

    @Override
    public String toString() {
        return cluster + "/" + label;
    }
}
