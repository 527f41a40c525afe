package io.sluice.cluster;

import io.sluice.balance.Endpoint;
import io.sluice.balance.PeakEwma;
import io.sluice.balance.XxHash64;
import io.sluice.config.HostPort;
import io.sluice.health.OutlierDetector;
import io.sluice.health.ProbeResult;
import io.sluice.config.ServerConfig;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend server of one cluster and its live state. Counters are plain atomics owned here: the forwarding
 * path bumps them without locks or map lookups, and metrics read them through function meters. Balancing
 * sees it only as an {@link Endpoint}.
 */
public final class Server implements Endpoint {

    private final String cluster;
    /** Weight and backup may change by a reload; the address (and so the label) never does. */
    private volatile ServerConfig config;
    private final String label;

    private volatile InetSocketAddress resolved;
    private volatile boolean healthy = true;
    private volatile boolean ejected;
    private volatile AdminState adminState = AdminState.ENABLED;
    private volatile int weightOverride;

    private final AtomicInteger activeConnections = new AtomicInteger();
    /** HTTP pool connections (idle or busy): counted apart so idle ones never look like load. */
    private final AtomicInteger pooledConnections = new AtomicInteger();
    /** HTTP requests sent to this server and not yet fully answered. */
    private final AtomicInteger activeRequests = new AtomicInteger();
    /** Units of max_connections held ({@link Slot}s): counted whatever the limit, so a reload can set one. */
    private final AtomicInteger slots = new AtomicInteger();
    /** Waiters in the cluster's queue pinned to this server; changed under the queue's lock. */
    volatile int queued;
    private final PeakEwma latency = new PeakEwma();
    private final LatencyHistogram histogram = new LatencyHistogram();
    private final LongAdder responses = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private volatile LastCheck lastCheck;
    /** When this server last went from unavailable to available; NOT_RAMPING for servers there from the start. */
    private volatile long availableSinceNanos = NOT_RAMPING;
    private final LongAdder totalConnections = new LongAdder();
    private final LongAdder connectErrors = new LongAdder();
    /** Bytes that came from the server (toward clients). */
    private final LongAdder bytesReceived = new LongAdder();
    /** Bytes written to the server (from clients). */
    private final LongAdder bytesSent = new LongAdder();
    /** Datagrams written to the server (UDP flows). */
    private final LongAdder datagramsSent = new LongAdder();
    /** Datagrams that came from the server (UDP flows). */
    private final LongAdder datagramsReceived = new LongAdder();
    /** Taken out of its cluster (reload, admin): UDP flows on it move on their next datagram. */
    private volatile boolean removed;
    private final LongAdder[] stateChanges = new LongAdder[StateChange.values().length];
    private final LongAdder[] healthChecks = new LongAdder[ProbeResult.Outcome.values().length];
    private volatile OutlierDetector.Tracker outlier;
    /** This server's value in the sticky cookie: a hash of its address, the same on every Sluice instance. */
    private final String stickyId;
    /** Open server-side channels: closed together on DOWN with close_on_down, and by the admin's disable. */
    private final LoopChannels connections = new LoopChannels();

    /** An operator's decision about a server, through the admin API (HAProxy's ready/drain/maint). */
    public enum AdminState {
        /** Takes work as its health allows. */
        ENABLED,
        /** No new connections or requests (but sticky sessions already on it); open ones finish. */
        DRAINING,
        /** No work at all; its open connections are closed. */
        DISABLED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Transitions counted in {@code sluice_server_state_changes_total{to}}. */
    public enum StateChange {
        UP, DOWN, EJECTED, RETURNED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Server(String cluster, ServerConfig config) {
        this.cluster = cluster;
        this.config = config;
        this.label = config.label();
        this.stickyId = Long.toHexString(XxHash64.hash(
                label.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0x5371C4L));
        for (int i = 0; i < stateChanges.length; i++) {
            stateChanges[i] = new LongAdder();
        }
        for (int i = 0; i < healthChecks.length; i++) {
            healthChecks[i] = new LongAdder();
        }
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

    void reconfigure(ServerConfig next) {
        if (!next.label().equals(label)) {
            throw new IllegalArgumentException("server " + label + " cannot become " + next.label());
        }
        this.config = next;
    }

    public HostPort address() {
        return config.address();
    }

    @Override
    public String label() {
        return label;
    }

    /** The weight picks use: an operator's runtime weight when one is set, else the configured one. */
    @Override
    public int weight() {
        int w = weightOverride;
        return w > 0 ? w : config.weight();
    }

    /** The weight the config file gives. */
    public int configuredWeight() {
        return config.weight();
    }

    /** The weight an operator set at runtime, or 0 for none. Kept across reloads while the server stays. */
    public int weightOverride() {
        return weightOverride;
    }

    void weightOverride(int weight) {
        this.weightOverride = weight;
    }

    /** What an operator decided for this server (admin API); kept across reloads while the server stays. */
    public AdminState adminState() {
        return adminState;
    }

    void adminState(AdminState state) {
        boolean was = available();
        this.adminState = state;
        noteAvailability(was);
    }

    /**
     * One word for the admin API and the status page, most decisive first: {@code disabled} and
     * {@code draining} (an operator's), {@code ejected} (outlier detection), {@code down} (health checks, or a
     * host name not resolved yet), else {@code up}.
     */
    public String state() {
        AdminState a = adminState;
        if (a != AdminState.ENABLED) {
            return a.label();
        }
        if (ejected) {
            return "ejected";
        }
        return healthy && resolved != null ? "up" : "down";
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
        boolean was = available();
        this.healthy = value;
        noteAvailability(was);
    }

    public boolean ejected() {
        return ejected;
    }

    void ejected(boolean value) {
        boolean was = available();
        this.ejected = value;
        noteAvailability(was);
    }

    // Slow start ramps only servers that come back (HAProxy's rule): servers that are there when Sluice
    // starts take full weight at once, or a restart would starve the whole cluster for a window.
    private void noteAvailability(boolean wasAvailable) {
        if (!wasAvailable && available()) {
            availableSinceNanos = System.nanoTime();
        }
    }

    /**
     * The {@link System#nanoTime()} at which this server last became available (health UP, or returned from
     * ejection), or {@link #NOT_RAMPING}. Slow start ramps its weight from this instant.
     */
    @Override
    public long availableSinceNanos() {
        return availableSinceNanos;
    }

    /** Starts a slow-start ramp at {@code nanoTime}: for servers added by a reload, and for tests. */
    public void startSlowStart(long nanoTime) {
        availableSinceNanos = nanoTime;
    }

    /** Eligible for new work: resolved, passing health checks, not ejected and not drained or disabled. */
    public boolean available() {
        return resolved != null && healthy && !ejected && adminState == AdminState.ENABLED;
    }

    /** A relayed TCP connection to this server, from connect attempt to close. */
    public Lease beginConnection() {
        return new Lease(this, activeConnections);
    }

    /** An HTTP request sent (or about to be sent) to this server, until the last byte of its response. */
    public Lease beginRequest() {
        return new Lease(this, activeRequests);
    }

    /** An HTTP pool connection to this server, idle or busy, from connect attempt to close. */
    public Lease beginPooledConnection() {
        return new Lease(this, pooledConnections);
    }

    /** Takes one unit of max_connections if there is room; the CAS keeps the limit exact across loops. */
    boolean occupy() {
        int max = config.maxConnections();
        for (;;) {
            int n = slots.get();
            if (max > 0 && n >= max) {
                return false;
            }
            if (slots.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Whether one slot given back leaves this server below its max_connections (a reload may lower it). */
    boolean roomAfterRelease() {
        int max = config.maxConnections();
        return max == 0 || slots.get() <= max;
    }

    void vacate() {
        slots.decrementAndGet();
    }

    /** At its max_connections now: picks pass it over (a hint; {@link #occupy()} decides). */
    @Override
    public boolean full() {
        int max = config.maxConnections();
        return max > 0 && slots.get() >= max;
    }

    /** The configured max_connections; 0 = unlimited. */
    public int maxConnections() {
        return config.maxConnections();
    }

    /** Units of max_connections held now: relayed connections and HTTP requests placed on this server. */
    public int slotsInUse() {
        return slots.get();
    }

    /** Waiting in the cluster's queue for this server in particular (a sticky cookie pinned them). */
    public int queued() {
        return queued;
    }

    /** Relayed TCP connections open (or opening) to this server now. */
    public int activeConnections() {
        return activeConnections.get();
    }

    /** HTTP requests in flight to this server now. */
    public int activeRequests() {
        return activeRequests.get();
    }

    /** This server's value in the sticky cookie. */
    public String stickyId() {
        return stickyId;
    }

    /** Open HTTP pool connections to this server, idle or carrying a request. */
    public int pooledConnections() {
        return pooledConnections.get();
    }

    /**
     * The load that least_connections, power_of_two_choices and least_response_time compare: L4 relays count
     * in {@link #activeConnections()}, HTTP requests in {@link #activeRequests()} (idle pooled HTTP backend
     * connections must not be counted in activeConnections, or they would look like load).
     */
    @Override
    public int load() {
        return activeConnections.get() + activeRequests.get();
    }

    /** Peak-EWMA response latency, read by least_response_time. */
    @Override
    public PeakEwma latency() {
        return latency;
    }

    /** Records one response latency (HTTP: request sent to response headers; L4: connect time). */
    public void recordLatency(long nanos) {
        recordLatency(nanos, System.nanoTime());
    }

    /** {@link #recordLatency(long)} at {@code nowNanos}, a {@link System#nanoTime()} the caller already read. */
    public void recordLatency(long nanos, long nowNanos) {
        latency.record(nanos, nowNanos);
        histogram.record(nanos);
    }

    /**
     * An HTTP response came from this server: counts it (and a 5xx as an error) and records its latency
     * (request sent to response head) for least_response_time and the status page.
     */
    public void recordResponse(int status, long nanos) {
        recordResponse(status, nanos, System.nanoTime());
    }

    /** {@link #recordResponse(int, long)} at {@code nowNanos}, a {@link System#nanoTime()} the caller already read. */
    public void recordResponse(int status, long nanos, long nowNanos) {
        responses.increment();
        if (status >= 500) {
            errors.increment();
        }
        recordLatency(nanos, nowNanos);
    }

    /** A request to this server failed without a response (reset, timeout, broken): an error. */
    public void recordFailure() {
        errors.increment();
    }

    /** HTTP responses received from this server. */
    public long responses() {
        return responses.sum();
    }

    /** 5xx responses and requests that failed without one. */
    public long errors() {
        return errors.sum();
    }

    public LatencyHistogram histogram() {
        return histogram;
    }

    /** The last health check: what it found and when; null before the first. */
    public LastCheck lastCheck() {
        return lastCheck;
    }

    void lastCheck(LastCheck check) {
        this.lastCheck = check;
    }

    /** One health check's verdict, for the admin API. */
    public record LastCheck(String result, String detail, long epochMillis) {
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

    public LongAdder datagramsSent() {
        return datagramsSent;
    }

    public LongAdder datagramsReceived() {
        return datagramsReceived;
    }

    /** True once the server left its cluster; it never comes back (a server added again is a new object). */
    public boolean removed() {
        return removed;
    }

    void markRemoved() {
        removed = true;
    }

    /** The open connections to this server: relayed TCP connections and HTTP pool connections. */
    public LoopChannels connections() {
        return connections;
    }

    /** Health checks of this server by outcome. */
    public LongAdder healthChecks(ProbeResult.Outcome outcome) {
        return healthChecks[outcome.ordinal()];
    }

    /** This server's outlier-detection state, or null when the cluster has none. */
    public OutlierDetector.Tracker outlier() {
        return outlier;
    }

    void outlier(OutlierDetector.Tracker tracker) {
        this.outlier = tracker;
    }

    public LongAdder stateChanges(StateChange to) {
        return stateChanges[to.ordinal()];
    }

    @Override
    public String toString() {
        return cluster + "/" + label;
    }
}
