package io.sluice.cluster;

import io.sluice.config.ProxyProtocolVersion;

import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import io.sluice.config.HealthCheckConfig;
import io.sluice.config.UpstreamProtocol;
import io.sluice.config.OutlierDetectionConfig;
import io.sluice.health.HealthChecker;
import io.sluice.health.HealthListener;
import io.sluice.health.HealthTarget;
import io.sluice.health.OutlierDetector;
import io.sluice.health.ProbeResult;
import io.sluice.health.DnsQuery;
import io.sluice.health.ProbeSpec;
import io.sluice.health.ProbeTls;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Connects one cluster to lb-health: a health target per server when the cluster has {@code health_check},
 * an outlier tracker per server when it has {@code outlier_detection}. Servers are attached and detached one
 * by one, so a server added or removed while running gets or loses its checks through the same code as at
 * start-up. State changes land in {@link Cluster#setHealthy} and {@link Cluster#setEjected}.
 */
public final class ClusterHealth implements AutoCloseable {
    private final Cluster cluster;
    private final HealthChecker checker;
    private final ProbeSpec spec;
    private final Timer duration;
    private final OutlierDetector detector;
    private final Map<Server, HealthTarget> targets = new IdentityHashMap<>();

    /**
     * @param duration records each check's duration; may be null when the cluster has no health_check
     * @param outlierLoop where ejection timers run
     */
    /** A PROXY protocol v2 header with the LOCAL command: the signature, version 2 LOCAL, UNSPEC, no addresses. */
    static final byte[] V2_LOCAL = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x20, 0x00, 0x00, 0x00};

    public ClusterHealth(Cluster cluster, HealthChecker checker, Timer duration, EventExecutor outlierLoop) {
        this.cluster = cluster;
        this.checker = checker;
        HealthCheckConfig hc = cluster.config().healthCheck();
        // Probes go over TLS when the cluster's traffic does, with the context in force at each probe.
        ProbeSpec probe = hc == null ? null
                : cluster.config().tls() == null ? spec(hc, cluster.config().protocol())
                : spec(hc, cluster.config().protocol()).withTls(new ProbeOverTls(cluster));
        // A v2 server gets a LOCAL header (a check of the server itself); v1 has no such command, so none
        // (haproxy#511).
        this.spec = probe != null && cluster.config().sendProxyProtocol() == ProxyProtocolVersion.V2
                ? probe.withPreamble(V2_LOCAL) : probe;
        this.duration = duration;
        OutlierDetectionConfig od = cluster.config().outlierDetection();
        this.detector = od == null ? null : new OutlierDetector(new OutlierDetector.Settings(od.consecutiveFailures(),
                od.baseEjectionTime(), od.maxEjectionTime(), od.maxEjectionPercent()), outlierLoop, new Ejections(cluster));
        cluster.outlierDetection(detector);
    }

    /** An {@code http} check speaks the cluster's protocol: servers of an h2 or h2c cluster may know no other. */
    static ProbeSpec spec(HealthCheckConfig hc, UpstreamProtocol protocol) {
        if (hc.type() == HealthCheckConfig.Type.DNS) {
            HealthCheckConfig.DnsCheck d = hc.dns();
            return ProbeSpec.dns(new DnsQuery(d.name(), d.queryType(), d.rcodes()), hc.interval(), hc.timeout(),
                    hc.jitter(), hc.rise(), hc.fall(), hc.port());
        }
        ProbeSpec.Kind kind = switch (hc.type()) {
            case TCP -> ProbeSpec.Kind.TCP;
            case HTTP -> protocol.http2() ? ProbeSpec.Kind.HTTP2 : ProbeSpec.Kind.HTTP;
            case GRPC -> ProbeSpec.Kind.GRPC;
            case DNS -> throw new AssertionError("handled above");
        };
        String path = hc.type() == HealthCheckConfig.Type.GRPC ? hc.service() : hc.path();
        return new ProbeSpec(kind, hc.method(), path, hc.host(), hc.expectStatus(), hc.expectBody(), hc.interval(),
                hc.timeout(), hc.jitter(), hc.rise(), hc.fall(), hc.port());
    }

    /**
     * Starts checking {@code server} and tracking its failures. The check starts from the server's state as it
     * is (a new server's is {@code initial_state}): a kept server that is DOWN when checks restart must come
     * back through the new checks, and one that is UP must be able to go DOWN.
     */
    public synchronized void attach(Server server) {
        if (spec != null && !targets.containsKey(server)) {
            targets.put(server, checker.add(cluster.name() + "/" + server.label(), server::resolved, spec,
                    server.healthy(), new Binding(cluster, server, duration)));
        }
        if (detector != null && server.outlier() == null) {
            server.outlier(detector.track(cluster.name() + "/" + server.label(), server));
        }
    }

    /**
     * Stops checking {@code server}; a probe in flight finishes and is ignored. An ejection this detector made
     * ends with it: the next detector (or none) starts from a server in rotation.
     */
    public synchronized void detach(Server server) {
        HealthTarget t = targets.remove(server);
        if (t != null) {
            checker.remove(t);
        }
        OutlierDetector.Tracker tracker = server.outlier();
        if (detector != null && tracker != null) {
            detector.untrack(tracker);
            server.outlier(null);
            if (server.ejected()) {
                cluster.setEjected(server, false, "outlier detection restarted");
            }
        }
    }

    /** Health targets being checked now. */
    public synchronized int targets() {
        return targets.size();
    }

    @Override
    public synchronized void close() {
        for (Server s : List.copyOf(targets.keySet())) {
            detach(s);
        }
        cluster.outlierDetection(null);
    }

    /** Puts a probe in the cluster's current TLS; plain if a reload turned TLS off before checks restarted. */
    private record ProbeOverTls(Cluster cluster) implements ProbeTls {
        @Override
        public Future<?> start(Channel ch, HealthTarget target) {
            UpstreamSecurity security = cluster.security();
            return security == null ? ch.eventLoop().newSucceededFuture(ch)
                    : security.probe(ch, ((Binding) target.context()).server());
        }
    }

    /** What a health target carries back to us: its server, cluster and the cluster's duration timer. */
    private record Binding(Cluster cluster, Server server, Timer duration) {
    }

    /** Routes lb-health's callbacks for every cluster's targets to the right cluster. */
    public static final class Events implements HealthListener {
        @Override
        public void stateChanged(HealthTarget target, boolean up, String reason) {
            Binding b = (Binding) target.context();
            b.cluster().setHealthy(b.server(), up, reason);
        }

        @Override
        public void probed(HealthTarget target, ProbeResult result, long durationNanos) {
            Binding b = (Binding) target.context();
            b.server().healthChecks(result.outcome()).increment();
            b.server().lastCheck(new Server.LastCheck(result.outcome().label(), result.detail(),
                    System.currentTimeMillis()));
            if (b.duration() != null) {
                b.duration().record(durationNanos, TimeUnit.NANOSECONDS);
            }
        }
    }

    private record Ejections(Cluster cluster) implements OutlierDetector.Listener {
        @Override
        public void ejected(OutlierDetector.Tracker tracker, String reason) {
            cluster.setEjected((Server) tracker.context(), true, reason);
        }

        @Override
        public void returned(OutlierDetector.Tracker tracker, String reason) {
            cluster.setEjected((Server) tracker.context(), false, reason);
        }
    }
}
