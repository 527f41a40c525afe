package io.sluice.runtime;

import io.micrometer.core.instrument.Timer;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterHealth;
import io.sluice.cluster.Server;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ServerConfig;
import io.sluice.config.SrvEntry;
import io.sluice.http.Upstream;
import io.sluice.metrics.MeterGroup;
import io.sluice.tls.UpstreamTls;
import io.sluice.tls.UpstreamTlsContexts;
import io.sluice.tls.UpstreamTlsErrors;
import java.util.ArrayList;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A cluster as the running process holds it: the balancing model ({@link Cluster}), its HTTP pools
 * ({@link Upstream}), its health checks and outlier tracking, its meters and its slow-start timer. Servers
 * join and leave through {@link #addServer} and {@link #removeServer}, the same steps at start-up, at a reload
 * and at shutdown, so each server's pools, meters and health target come and go with it. Changed on one
 * thread at a time (start-up, shutdown, the control thread).
 */
final class LiveCluster implements AutoCloseable {
    /** Longer than any pick takes to reach its pool lookup. */
    private static final java.time.Duration FORGET_AFTER = java.time.Duration.ofSeconds(10);

    private final Shared shared;
    private final Cluster cluster;
    private final Upstream upstream;
    private final MeterGroup meters;
    private final Map<Server, MeterGroup> serverMeters = new IdentityHashMap<>();
    private ClusterHealth health;
    /** The cluster's health-check duration timer; empty without health_check. */
    private MeterGroup healthMeters;
    /** Only when an HTTP listener routes here: the request duration meters and each server's pool gauges. */
    private MeterGroup httpMeters;
    private ScheduledFuture<?> ramp;
    /** Failed handshakes by reason, kept across the TLS contexts a reload builds. */
    private final UpstreamTlsErrors tlsErrors = new UpstreamTlsErrors();
    /** The handshake error series; bound while the cluster has tls. */
    private MeterGroup tlsMeters;
    /** The configuration as written; the cluster's own adds the servers its SRV names stand for. */
    private ClusterConfig declared;
    /** The servers each SRV name's last answer named, in the order of its records. */
    private final Map<String, List<ServerConfig>> discovered = new LinkedHashMap<>();
    /** Where discovered servers are, by label, as the last answers said: set before a new one is picked. */
    private final Map<String, InetSocketAddress> discoveredAddresses = new HashMap<>();
    /** The SRV lookup series; bound while the cluster has srv entries. */
    private MeterGroup dnsMeters;

    private LiveCluster(Shared shared, ClusterConfig config, UpstreamTlsContexts.Built tls, Closer undo) {
        this.shared = shared;
        this.cluster = new Cluster(config);
        this.declared = config;
        this.upstream = new Upstream(cluster, shared.transport(), shared.allocator(), shared.loops());
        this.meters = undo.add(shared.metrics().bind(cluster));
        useTls(tls);
        undo.add(this::closeTlsMeters);
        bindDnsMeters();
        undo.add(this::closeDnsMeters);
        undo.add(this::closeHealth);
        openHealth();
        cluster.rebuildOn(shared.control());
        scheduleRamp();
        undo.add(this::cancelRamp);
        for (Server s : cluster.servers()) {
            attach(s);
        }
        cluster.rebuild();
    }

    /** Builds the cluster with all its servers; on failure releases whatever it had made, and rethrows. */
    static LiveCluster create(Shared shared, ClusterConfig config, UpstreamTlsContexts.Built tls) {
        Closer undo = new Closer();
        try {
            return new LiveCluster(shared, config, tls, undo);
        } catch (RuntimeException | Error e) {
            undo.close();
            throw e;
        }
    }

    Cluster cluster() {
        return cluster;
    }

    /** The configuration as the file has it, without discovered servers: what a reload compares with. */
    ClusterConfig declared() {
        return declared;
    }

    Upstream upstream() {
        return upstream;
    }

    String name() {
        return cluster.name();
    }

    /** Binds the HTTP meters once an HTTP listener routes to this cluster. */
    synchronized void servedOverHttp() {
        if (httpMeters != null) {
            return;
        }
        httpMeters = shared.metrics().bind(upstream);
        rebindServerMeters();
    }

    /** Adds a server while running: it is picked only once its pools, meters and health target exist. */
    synchronized Server addServer(ServerConfig config) {
        Server s = cluster.addServer(config);
        attach(s);
        InetSocketAddress known = discoveredAddresses.get(s.label());
        if (known != null) {
            cluster.setResolved(s, known); // eligible with its first picker, not one DNS round later
        }
        if (!cluster.config().balancer().slowStart().isZero()) {
            s.startSlowStart(System.nanoTime()); // a server that joins a running cluster ramps up like one that returns
        }
        cluster.rebuild();
        return s;
    }

    /** Takes a server out of rotation, then retires its pools, meters and health target. */
    synchronized void removeServer(Server s) {
        cluster.removeServer(s);
        detach(s);
    }

    /**
     * Applies a changed configuration of this cluster: servers gone are removed, servers kept take their new
     * weights, servers new are added; health checks start over only when their settings changed (the servers'
     * UP/DOWN state stays). Returns what changed, for the reload report.
     */
    synchronized List<String> reconfigure(ClusterConfig next, UpstreamTlsContexts.Built tls) {
        // Before the new servers: whatever connects from here on uses the new context (files read again).
        useTls(tls);
        declared = next;
        discovered.keySet().retainAll(next.srvNames());
        bindDnsMeters();
        return apply(withDiscovered());
    }

    /**
     * An SRV name's latest answer: its servers join, stay or leave by the same steps as a reload's, so the
     * others (and those that stay) keep their state, connections and pools.
     */
    synchronized List<String> discovered(String srvName, List<ServerConfig> servers,
                                         Map<String, InetSocketAddress> addresses) {
        if (!declared.srvNames().contains(srvName)) {
            return List.of(); // a reload took the name away while its answer was on the way
        }
        discovered.put(srvName, List.copyOf(servers));
        discoveredAddresses.putAll(addresses);
        List<String> changes = apply(withDiscovered());
        for (Server s : cluster.servers()) {
            InetSocketAddress a = addresses.get(s.label());
            if (a != null) {
                cluster.setResolved(s, a); // a kept target whose address changed; nothing when it did not
            }
        }
        discoveredAddresses.keySet().retainAll(cluster.servers().stream().map(Server::label).toList());
        return changes;
    }

    /**
     * The declared servers and then those of each SRV name, each with its entry's {@code max_connections}; a
     * target:port named twice is taken once.
     */
    private ClusterConfig withDiscovered() {
        if (declared.srv().isEmpty()) {
            return declared;
        }
        List<ServerConfig> all = new ArrayList<>(declared.servers());
        Set<String> labels = new HashSet<>();
        all.forEach(sc -> labels.add(sc.label()));
        for (SrvEntry entry : declared.srv()) {
            for (ServerConfig sc : discovered.getOrDefault(entry.name(), List.of())) {
                if (labels.add(sc.label())) {
                    all.add(new ServerConfig(sc.address(), sc.weight(), sc.backup(), entry.maxConnections()));
                }
            }
        }
        return declared.withServers(all);
    }

    private List<String> apply(ClusterConfig next) {
        ClusterConfig old = cluster.config();
        if (old.equals(next)) {
            return List.of();
        }
        List<String> changes = new ArrayList<>();
        if (!Objects.equals(old.tls(), next.tls())) {
            changes.add("cluster " + name() + ": tls " + (next.tls() == null ? "off"
                    : old.tls() == null ? "on" : "settings changed") + " for new connections");
        }
        // New servers first and old ones last, each step publishing a picker: replacing a cluster's only
        // server never leaves a moment with none.
        for (ServerConfig sc : next.servers()) {
            if (cluster.server(sc.label()) == null) {
                addServer(sc);
                changes.add("cluster " + name() + ": server " + sc.label() + " added");
            }
        }
        for (ServerConfig sc : next.servers()) {
            Server s = cluster.server(sc.label());
            if (s != null && !s.config().equals(sc) && old.servers().contains(s.config())) {
                changes.add("cluster " + name() + ": server " + sc.label() + " weight " + s.configuredWeight()
                        + (s.backup() ? " backup" : "") + " -> " + sc.weight() + (sc.backup() ? " backup" : "")
                        + (s.maxConnections() == sc.maxConnections() ? ""
                                : ", max_connections " + s.maxConnections() + " -> " + sc.maxConnections()));
            }
        }
        boolean healthChanged = !Objects.equals(old.healthCheck(), next.healthCheck())
                || !Objects.equals(old.outlierDetection(), next.outlierDetection())
                || (old.tls() == null) != (next.tls() == null) // probes follow the traffic into or out of TLS
                || old.protocol().http2() != next.protocol().http2(); // and into or out of HTTP/2
        if (healthChanged) {
            closeHealth();
        }
        cluster.reconfigure(next);
        if (!old.pool().equals(next.pool())) {
            upstream.poolSettingsChanged();
        }
        if (healthChanged) {
            if (next.healthCheck() == null) {
                // Without checks every server counts as up: none may stay DOWN with nothing to bring it back.
                cluster.servers().forEach(s -> cluster.setHealthy(s, true, "health checks removed"));
            }
            openHealth();
            cluster.servers().forEach(health::attach);
            rebindServerMeters();
            changes.add("cluster " + name() + ": health checks / outlier detection restarted with new settings");
        }
        if (!Objects.equals(old.balancer().slowStart(), next.balancer().slowStart())) {
            cancelRamp();
            scheduleRamp();
        }
        for (Server s : cluster.servers()) {
            if (next.servers().stream().noneMatch(sc -> sc.label().equals(s.label()))) {
                removeServer(s);
                changes.add("cluster " + name() + ": server " + s.label() + " removed");
            }
        }
        if (!old.balancer().equals(next.balancer())) {
            changes.add("cluster " + name() + ": balancing " + old.algorithm() + " -> " + next.algorithm());
        }
        if (changes.isEmpty() && !old.equals(next)) {
            changes.add("cluster " + name() + ": settings changed");
        }
        return changes;
    }

    /** Publishes the cluster's TLS context (null: plain) and keeps its handshake error series with it. */
    private void useTls(UpstreamTlsContexts.Built tls) {
        if (tls == null) {
            cluster.security(null);
            closeTlsMeters();
            return;
        }
        cluster.security(new UpstreamTls(name(), tls, tlsErrors));
        if (tlsMeters == null) {
            tlsMeters = shared.metrics().bindUpstreamTls(name(), tlsErrors);
        }
    }

    private void bindDnsMeters() {
        if (declared.srv().isEmpty()) {
            closeDnsMeters();
        } else if (dnsMeters == null) {
            dnsMeters = shared.metrics().bindDns(name(), cluster.dnsResolutions());
        }
    }

    private void closeDnsMeters() {
        if (dnsMeters != null) {
            dnsMeters.close();
            dnsMeters = null;
        }
    }

    private void closeTlsMeters() {
        if (tlsMeters != null) {
            tlsMeters.close();
            tlsMeters = null;
        }
    }

    private void openHealth() {
        ClusterConfig config = cluster.config();
        healthMeters = shared.metrics().newGroup();
        Timer duration = config.healthCheck() == null ? null
                : shared.metrics().healthCheckDuration(healthMeters, config.name());
        health = new ClusterHealth(cluster, shared.health(), duration, shared.workers().next());
    }

    private void closeHealth() {
        if (health != null) {
            for (Server s : cluster.servers()) {
                health.detach(s);
            }
            health.close();
            health = null;
        }
        if (healthMeters != null) {
            healthMeters.close();
            healthMeters = null;
        }
    }

    private void scheduleRamp() {
        if (!cluster.config().balancer().slowStart().isZero()) {
            // Pickers are frozen snapshots: a slow-start ramp advances only by rebuilding, step by step.
            long step = cluster.slowStartStep().toMillis();
            ramp = shared.control().scheduleWithFixedDelay(cluster::rebuildIfRamping, step, step,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void cancelRamp() {
        if (ramp != null) {
            ramp.cancel(false);
            ramp = null;
        }
    }

    private void attach(Server s) {
        upstream.addServer(s);
        serverMeters.put(s, bindServer(s));
        health.attach(s);
    }

    private void detach(Server s) {
        health.detach(s);
        MeterGroup g = serverMeters.remove(s);
        if (g != null) {
            g.close();
        }
        upstream.retireServer(s);
        // Pickers published before the removal may still return it for a moment; after that it is gone.
        shared.control().schedule(() -> upstream.forgetServer(s), FORGET_AFTER.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Meters read counters the servers own, so binding them again changes which series exist, never a value. */
    private void rebindServerMeters() {
        for (Server s : cluster.servers()) {
            MeterGroup g = serverMeters.remove(s);
            if (g != null) {
                g.close();
            }
            serverMeters.put(s, bindServer(s));
        }
    }

    /** A server's meters: always its own; its pool gauges only when the cluster is served over HTTP. */
    private MeterGroup bindServer(Server s) {
        MeterGroup g = shared.metrics().bind(cluster, s);
        if (httpMeters != null) {
            shared.metrics().bindPools(g, upstream, s);
        }
        return g;
    }

    /** Closes every server connection (pooled or busy); shutdown calls this while the event loops still run. */
    void closeConnections() {
        upstream.closeConnections();
    }

    /**
     * Retires the cluster: no checks, no meters, idle pooled connections closed. Connections still carrying
     * work finish (a reload removed the cluster while a draining listener still used it); shutdown closes
     * them first with {@link #closeConnections}.
     */
    @Override
    public synchronized void close() {
        cancelRamp();
        List<Server> all = cluster.servers();
        cluster.retire(); // its picker empties: nothing can place new work here any more
        for (Server s : all) {
            detach(s);
        }
        closeHealth();
        closeTlsMeters();
        closeDnsMeters();
        if (httpMeters != null) {
            httpMeters.close();
        }
        meters.close();
    }
}
