package io.sluice.runtime;

import io.micrometer.core.instrument.Timer;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterHealth;
import io.sluice.cluster.Server;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ServerConfig;
import io.sluice.http.Upstream;
import io.sluice.metrics.MeterGroup;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A cluster as the running process holds it: the balancing model ({@link Cluster}), its HTTP pools
 * ({@link Upstream}), its health checks and outlier tracking, its meters and its slow-start timer. Servers
 * join and leave through {@link #addServer} and {@link #removeServer}, the same steps at start-up, at a reload
 * and at shutdown, so each server's pools, meters and health target come and go with it.
 */
final class LiveCluster implements AutoCloseable {
    private final Shared shared;
    private final Cluster cluster;
    private final Upstream upstream;
    private final ClusterHealth health;
    private final MeterGroup meters;
    /** The cluster's health-check duration timer; empty without health_check. */
    private final MeterGroup healthMeters;
    private final Map<Server, MeterGroup> serverMeters = new IdentityHashMap<>();
    /** Only when an HTTP listener routes here: the request duration meters and each server's pool gauges. */
    private MeterGroup httpMeters;
    private final ScheduledFuture<?> ramp;

    private LiveCluster(Shared shared, ClusterConfig config, Closer undo) {
        this.shared = shared;
        this.cluster = new Cluster(config);
        this.upstream = new Upstream(cluster, shared.transport(), shared.allocator(), shared.loops());
        this.meters = undo.add(shared.metrics().bind(cluster));
        this.healthMeters = undo.add(shared.metrics().newGroup());
        Timer duration = config.healthCheck() == null ? null
                : shared.metrics().healthCheckDuration(healthMeters, config.name());
        this.health = undo.add(new ClusterHealth(cluster, shared.health(), duration, shared.workers().next()));
        cluster.rebuildOn(shared.control());
        if (!config.balancer().slowStart().isZero()) {
            // Pickers are frozen snapshots: a slow-start ramp advances only by rebuilding, step by step.
            long step = cluster.slowStartStep().toMillis();
            this.ramp = shared.control().scheduleWithFixedDelay(cluster::rebuildIfRamping, step, step,
                    TimeUnit.MILLISECONDS);
        } else {
            this.ramp = null;
        }
        for (Server s : cluster.servers()) {
            attach(s);
        }
        cluster.rebuild();
    }

    /** Builds the cluster with all its servers; on failure releases whatever it had made, and rethrows. */
    static LiveCluster create(Shared shared, ClusterConfig config) {
        Closer undo = new Closer();
        try {
            return new LiveCluster(shared, config, undo);
        } catch (RuntimeException | Error e) {
            undo.close();
            throw e;
        }
    }

    Cluster cluster() {
        return cluster;
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
        for (Server s : cluster.servers()) {
            serverMeters.get(s).close();
            serverMeters.put(s, bindServer(s));
        }
    }

    /** Adds a server while running: it is picked only once its pools, meters and health target exist. */
    synchronized Server addServer(ServerConfig config) {
        Server s = cluster.addServer(config);
        attach(s);
        cluster.rebuild();
        return s;
    }

    /** Takes a server out of rotation, then retires its pools, meters and health target. */
    synchronized void removeServer(Server s) {
        cluster.removeServer(s);
        detach(s);
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
        upstream.removeServer(s);
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

    @Override
    public synchronized void close() {
        if (ramp != null) {
            ramp.cancel(false);
        }
        for (Server s : cluster.servers()) {
            detach(s);
        }
        health.close();
        if (httpMeters != null) {
            httpMeters.close();
        }
        healthMeters.close();
        meters.close();
    }
}
