package io.sluice.cluster;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.HealthCheckConfig;
import io.sluice.config.OutlierDetectionConfig;
import io.sluice.health.HealthChecker;
import io.sluice.health.HealthListener;
import io.sluice.health.HealthTarget;
import io.sluice.health.OutlierDetector;
import io.sluice.health.ProbeResult;
import io.sluice.health.ProbeSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Connects lb-health to the clusters: one health target per server of every cluster with
 * {@code health_check}, one outlier tracker per server of every cluster with {@code outlier_detection}.
 * State changes land in {@link Cluster#setHealthy} and {@link Cluster#setEjected}.
 */
public final class HealthWiring implements AutoCloseable {
    private final HealthChecker checker;

    /** What a health target carries back to us: its server, cluster and the cluster's duration timer. */
    private record Binding(Cluster cluster, Server server, Timer duration) {
    }

    public HealthWiring(List<Cluster> clusters, EventLoopGroup group, Class<? extends Channel> channelClass,
                        MeterRegistry registry) {
        this.checker = new HealthChecker(group, channelClass, new Listener());
        for (Cluster cluster : clusters) {
            HealthCheckConfig hc = cluster.config().healthCheck();
            if (hc != null) {
                Timer duration = Timer.builder("sluice.health.check.duration").tag("cluster", cluster.name())
                        .description("Time a health check took, from connect to verdict")
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                        .register(registry);
                ProbeSpec spec = spec(hc);
                for (Server server : cluster.servers()) {
                    checker.add(cluster.name() + "/" + server.label(), server::resolved, spec, hc.initialUp(),
                            new Binding(cluster, server, duration));
                }
            }
            OutlierDetectionConfig od = cluster.config().outlierDetection();
            if (od != null) {
                OutlierDetector detector = new OutlierDetector(new OutlierDetector.Settings(od.consecutiveFailures(),
                        od.baseEjectionTime(), od.maxEjectionTime(), od.maxEjectionPercent()), group.next(),
                        new Ejections(cluster));
                for (Server server : cluster.servers()) {
                    server.outlier(detector.track(cluster.name() + "/" + server.label(), server));
                }
                cluster.outlierDetection(detector);
            }
        }
    }

    static ProbeSpec spec(HealthCheckConfig hc) {
        return new ProbeSpec(hc.type() == HealthCheckConfig.Type.HTTP ? ProbeSpec.Kind.HTTP : ProbeSpec.Kind.TCP,
                hc.method(), hc.path(), hc.host(), hc.expectStatus(), hc.expectBody(), hc.interval(), hc.timeout(),
                hc.jitter(), hc.rise(), hc.fall(), hc.port());
    }

    private static final class Listener implements HealthListener {
        @Override
        public void stateChanged(HealthTarget target, boolean up, String reason) {
            Binding b = (Binding) target.context();
            b.cluster().setHealthy(b.server(), up, reason);
        }

        @Override
        public void probed(HealthTarget target, ProbeResult result, long durationNanos) {
            Binding b = (Binding) target.context();
            b.server().healthChecks(result.outcome()).increment();
            b.duration().record(durationNanos, TimeUnit.NANOSECONDS);
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

    @Override
    public void close() {
        checker.close();
    }
}
