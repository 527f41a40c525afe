package io.sluice.cluster;

import io.sluice.balance.HashKey;
import io.sluice.balance.LoadBalancer;
import io.sluice.balance.LoadBalancers;
import io.sluice.balance.PickContext;
import io.sluice.balance.Picker;
import io.sluice.balance.SlowStart;
import io.sluice.config.ClusterConfig;
import io.sluice.config.OutlierDetectionConfig;
import io.sluice.health.OutlierDetector;
import io.sluice.health.PanicThreshold;
import io.sluice.config.ServerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live form of a cluster: its servers and the current picker. Any change to which servers are eligible
 * (health, ejection, DNS) calls {@link #rebuild()}, which builds a new picker off the hot path and publishes
 * it with one volatile write; picks in flight keep using the picker they read.
 */
public final class Cluster {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    /** Replaced by {@link #reconfigure}; new work reads the new settings, work in flight keeps what it read. */
    private volatile ClusterConfig config;
    /** The current picker holds slow-start weights below full: see {@link #needsRampRebuild()}. */
    private volatile boolean pickerRamping;
    /** Replaced whole under the cluster's lock when a server is added or removed; read without a lock. */
    private volatile List<Server> servers = List.of();
    private volatile Map<String, Server> byStickyId = Map.of();
    private volatile LoadBalancer balancer;
    /** The parsed hash_key for ring_hash and maglev; null for algorithms that do not hash. */
    private volatile HashKey hashKey;
    private volatile Picker<Server> picker = Picker.empty();
    /** The servers the current picker chooses from; where queued work may go. */
    private volatile List<Server> eligible = List.of();
    private final ClusterQueue queue = new ClusterQueue(this);
    private volatile boolean panic;
    private volatile OutlierDetector outlierDetector;
    private volatile Executor rebuilder = Runnable::run;
    /** TLS to the servers, or null for plain connections; replaced whole when a reload rebuilds it. */
    private volatile UpstreamSecurity security;
    private final AtomicBoolean rebuildPending = new AtomicBoolean();
    /** {@link #retire} ran: no server will join again. Set under the cluster's lock. */
    private volatile boolean retired;
    /** SRV lookups of this cluster's {@code srv} names, by result; kept across reloads. */
    private final DnsResolutions dnsResolutions = new DnsResolutions();

    public Cluster(ClusterConfig config) {
        this.config = config;
        this.balancer = LoadBalancers.create(config.balancer());
        this.hashKey = hashKeyOf(config);
        List<Server> list = new ArrayList<>();
        for (ServerConfig sc : config.servers()) {
            list.add(newServer(sc));
        }
        publish(list);
        rebuild();
    }

    private static HashKey hashKeyOf(ClusterConfig config) {
        return LoadBalancers.isHashing(config.algorithm()) ? HashKey.of(config.balancer().hashKey()) : null;
    }

    /**
     * Takes new settings for the cluster and the servers it keeps (weights, backup), and publishes a picker
     * built with them. Each server keeps its health, ejection, latency and load: only what was configured
     * changes. Servers added or removed by the same change go through {@link #addServer} and
     * {@link #removeServer}. Ring hash and maglev tables are functions of the server set and weights, so keys
     * keep their placement across the change wherever those stay the same.
     */
    public synchronized void reconfigure(ClusterConfig next) {
        if (!next.name().equals(config.name())) {
            throw new IllegalArgumentException("cluster " + config.name() + " cannot become " + next.name());
        }
        if (!next.balancer().equals(config.balancer())) {
            balancer = LoadBalancers.create(next.balancer());
            hashKey = hashKeyOf(next);
        }
        config = next;
        for (ServerConfig sc : next.servers()) {
            Server s = server(sc.label());
            if (s != null) {
                s.reconfigure(sc);
                s.latency().decay(next.balancer().ewmaDecay());
            }
        }
        rebuild();
    }

    private Server newServer(ServerConfig sc) {
        Server s = new Server(config.name(), sc);
        // With initial_state: down a new server must pass `rise` checks before it takes traffic.
        s.healthy(config.healthCheck() == null || config.healthCheck().initialUp());
        s.latency().decay(config.balancer().ewmaDecay());
        return s;
    }

    private void publish(List<Server> list) {
        Map<String, Server> ids = new HashMap<>();
        for (Server s : list) {
            ids.put(s.stickyId(), s);
        }
        byStickyId = Map.copyOf(ids);
        servers = List.copyOf(list);
    }

    /**
     * Adds a server configured by {@code sc}. Pickers do not see it until the next {@link #rebuild()}: the
     * caller gives it pools, meters and health checks first, so nothing can pick it half set up.
     */
    public synchronized Server addServer(ServerConfig sc) {
        Server s = newServer(sc);
        List<Server> list = new ArrayList<>(servers);
        list.add(s);
        publish(list);
        return s;
    }

    /**
     * Takes {@code server} out of the cluster: the next picker leaves it out. Work already placed on it carries
     * on; the caller retires its pools, meters and health checks after this returns.
     */
    public synchronized void removeServer(Server server) {
        List<Server> list = new ArrayList<>(servers);
        if (list.remove(server)) {
            server.markRemoved();
            publish(list);
            rebuild();
        }
    }

    /**
     * Takes every server out at once: shutdown, or a reload that removed the cluster. The empty picker is where
     * the cluster was meant to end up, so it is not reported as a cluster with no available server (one warning
     * per stop, which log-based alerts would page on).
     */
    public synchronized void retire() {
        retired = true;
        for (Server s : servers) {
            s.markRemoved();
        }
        publish(List.of());
        rebuild();
    }

    public String name() {
        return config.name();
    }

    public DnsResolutions dnsResolutions() {
        return dnsResolutions;
    }

    /** TLS to the servers as built now, or null for plain connections; read once per new connection. */
    public UpstreamSecurity security() {
        return security;
    }

    public void security(UpstreamSecurity next) {
        security = next;
    }

    public ClusterConfig config() {
        return config;
    }

    public List<Server> servers() {
        return servers;
    }

    /** The server whose label (configured address) is {@code label}, or null. */
    public Server server(String label) {
        for (Server s : servers) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        return null;
    }

    /**
     * The server a sticky cookie names, if it may take the request now; null when the value is unknown or its
     * server is down, ejected or disabled, so the request is balanced and the cookie moves. A draining server
     * still takes the sessions already pinned to it (HAProxy's drain), so they can end where they started.
     */
    public Server stickyServer(String cookieValue) {
        Server s = cookieValue == null ? null : byStickyId.get(cookieValue);
        if (s == null) {
            return null;
        }
        return s.available() || (s.adminState() == Server.AdminState.DRAINING && s.resolved() != null
                && s.healthy() && !s.ejected()) ? s : null;
    }

    /**
     * An operator drains, disables or enables {@code server}; a new picker follows at once. Disabling also
     * closes the connections the server holds.
     */
    public void setAdminState(Server server, Server.AdminState state) {
        synchronized (this) {
            if (server.adminState() == state) {
                return;
            }
            server.adminState(state);
            rebuild();
        }
        log.info("{}/{} {} by the admin API", name(), server.label(), state.label().toUpperCase(java.util.Locale.ROOT));
        int open = server.connections().count();
        if (state == Server.AdminState.DISABLED && open > 0) {
            log.info("{}/{} closing {} open connection(s)", name(), server.label(), open);
            server.connections().closeAll();
        }
    }

    /** An operator sets {@code server}'s weight (1-10000), or clears the override with 0. */
    public synchronized void setWeightOverride(Server server, int weight) {
        server.weightOverride(weight);
        rebuild();
    }

    /** The key ring_hash and maglev place work by, or null when the algorithm does not hash. */
    public HashKey hashKey() {
        return hashKey;
    }

    /** Picks a server for new work, or null when none is eligible. */
    public Server pick(PickContext ctx) {
        return picker.pick(ctx);
    }

    /** Recomputes the eligible servers and publishes a new picker. Never called per pick. */
    public synchronized void rebuild() {
        List<Server> primary = new ArrayList<>();
        List<Server> primaryResolved = new ArrayList<>();
        List<Server> backup = new ArrayList<>();
        int primaries = 0;
        for (Server s : servers) {
            if (!s.backup()) {
                primaries++;
                if (s.resolved() != null && s.adminState() == Server.AdminState.ENABLED) {
                    primaryResolved.add(s); // panic spreads over broken servers, never over an operator's choice
                }
            }
            if (s.available()) {
                (s.backup() ? backup : primary).add(s);
            }
        }
        // Envoy's panic mode: when only a few primaries are left, health data is more likely wrong than the
        // servers; spreading over all of them beats crushing the few. With none left, fail fast instead.
        boolean nowPanic = PanicThreshold.inPanic(primary.size(), primaries, config.panicThreshold());
        List<Server> eligible;
        if (nowPanic) {
            eligible = primaryResolved;
        } else if (!primary.isEmpty()) {
            eligible = primary;
        } else {
            eligible = backup; // backups take traffic only when no primary can
        }
        if (nowPanic != panic) {
            panic = nowPanic;
            if (nowPanic) {
                log.warn("cluster {} in PANIC: {} of {} servers available, below panic_threshold {}%; "
                        + "balancing across all servers", name(), primary.size(), primaries, config.panicThreshold());
            } else {
                log.info("cluster {} out of panic: {} of {} servers available", name(), primary.size(), primaries);
            }
        }
        picker = eligible.isEmpty() ? Picker.empty() : balancer.newPicker(List.copyOf(eligible));
        this.eligible = List.copyOf(eligible);
        if (eligible.isEmpty() && !retired) {
            log.warn("cluster {} has no available server", name());
        }
        pickerRamping = SlowStart.anyRamping(eligible, config.balancer().slowStart(), System.nanoTime());
        // A server came back, or a reload raised a limit: queued work may go now.
        queue.dispatch();
    }

    /** The servers new work may go to now (the current picker's). */
    List<Server> eligible() {
        return eligible;
    }

    /** Work waiting for a server below its max_connections. */
    public ClusterQueue queue() {
        return queue;
    }

    /**
     * True while the current picker was built with a server inside its {@code slow_start} window. Pickers are
     * immutable snapshots, so a ramp advances only when something calls {@link #rebuild()}: a scheduler (off
     * the event loops) should call {@link #rebuildIfRamping()} every {@link #slowStartStep()}. The last
     * rebuild after the window ends restores full weights and turns this false.
     */
    public boolean needsRampRebuild() {
        return pickerRamping;
    }

    /** Rebuilds the picker when a slow-start ramp is in progress; cheap to call often. */
    public void rebuildIfRamping() {
        if (pickerRamping) {
            rebuild();
        }
    }

    /** How often a ramping cluster should be rebuilt: a tenth of the window, at least 100 ms. */
    public java.time.Duration slowStartStep() {
        return SlowStart.step(config.balancer().slowStart());
    }

    /** True while the cluster balances across all servers because too few are available. */
    public boolean panic() {
        return panic;
    }

    /** Health checks moved {@code server} UP or DOWN; {@code reason} ends up in the log line. */
    public void setHealthy(Server server, boolean healthy, String reason) {
        synchronized (this) {
            if (server.healthy() == healthy) {
                return;
            }
            server.healthy(healthy);
            server.stateChanges(healthy ? Server.StateChange.UP : Server.StateChange.DOWN).increment();
            requestRebuild();
        }
        log.info("{}/{} {} {}", name(), server.label(), healthy ? "UP" : "DOWN", reason);
        boolean closeOnDown = config.healthCheck() != null && config.healthCheck().closeOnDown();
        int open = server.connections().count();
        if (!healthy && closeOnDown && open > 0) {
            log.info("{}/{} closing {} open connection(s) (close_on_down)", name(), server.label(), open);
            server.connections().closeAll();
        }
    }

    /** Outlier detection ejected {@code server} (or let it back); {@code reason} ends up in the log line. */
    public void setEjected(Server server, boolean ejected, String reason) {
        synchronized (this) {
            if (server.ejected() == ejected) {
                return;
            }
            server.ejected(ejected);
            server.stateChanges(ejected ? Server.StateChange.EJECTED : Server.StateChange.RETURNED).increment();
            requestRebuild();
        }
        log.info("{}/{} {} {}", name(), server.label(), ejected ? "EJECTED" : "RETURNED", reason);
    }

    /**
     * Rebuilds on the control thread rather than the caller's: health events arrive on event loops, and a
     * large table (maglev, ring hash) must not stall traffic there. Requests coalesce while one is pending.
     */
    void requestRebuild() {
        if (rebuildPending.compareAndSet(false, true)) {
            rebuilder.execute(() -> {
                rebuildPending.set(false);
                rebuild();
            });
        }
    }

    /** Where rebuilds triggered by health events run; direct (the caller's thread) until set. */
    public void rebuildOn(Executor executor) {
        this.rebuilder = executor;
    }

    void outlierDetection(OutlierDetector detector) {
        this.outlierDetector = detector;
    }

    /** A connect to {@code server} failed (refused, reset or timed out); feeds outlier detection. */
    public void reportConnectFailure(Server server) {
        OutlierDetector d = outlierDetector;
        OutlierDetectionConfig c = config.outlierDetection();
        if (d != null && c.onConnectFailure() && server.outlier() != null) {
            d.failure(server.outlier());
        }
    }

    /**
     * A response came back from {@code server}: a 5xx counts as a failure when the cluster's outlier
     * detection counts 5xx, anything else as a success. For the HTTP path.
     */
    public void reportResponse(Server server, int status) {
        OutlierDetector d = outlierDetector;
        if (d == null || server.outlier() == null) {
            return;
        }
        if (status >= 500 && config.outlierDetection().on5xx()) {
            d.failure(server.outlier());
        } else if (status < 500) {
            d.success(server.outlier());
        }
    }

    /** A connect to {@code server} succeeded; resets outlier detection's failure run. */
    public void reportConnectSuccess(Server server) {
        OutlierDetector d = outlierDetector;
        if (d != null && server.outlier() != null) {
            d.success(server.outlier());
        }
    }

    /** A DNS answer gave {@code server} this address; a new picker follows when it changed. */
    public void setResolved(Server server, java.net.InetSocketAddress address) {
        if (!address.equals(server.resolved())) {
            server.resolved(address);
            rebuild();
        }
    }
}
