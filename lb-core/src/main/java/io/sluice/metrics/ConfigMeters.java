package io.sluice.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The configuration's own series: reloads by result, when the last of each result happened, and which file
 * is in force ({@code sluice_config_info{sha256}}, 1 for the file in force; an alert can compare it with the
 * hash of the file on disk).
 */
public final class ConfigMeters {
    private final MeterRegistry registry;
    private final Counter applied;
    private final Counter rejected;
    private final AtomicLong lastApplied = new AtomicLong();
    private final AtomicLong lastRejected = new AtomicLong();
    private Gauge info;

    ConfigMeters(MeterRegistry registry, String sha256) {
        this.registry = registry;
        this.applied = Counter.builder("sluice.config.reloads").tag("result", "applied")
                .description("Configuration reloads, by result").register(registry);
        this.rejected = Counter.builder("sluice.config.reloads").tag("result", "rejected")
                .description("Configuration reloads, by result").register(registry);
        Gauge.builder("sluice.config.last.reload.timestamp.seconds", lastApplied, a -> a.get() / 1000.0)
                .tag("result", "applied").description("When the last reload with this result happened (Unix time)")
                .register(registry);
        Gauge.builder("sluice.config.last.reload.timestamp.seconds", lastRejected, a -> a.get() / 1000.0)
                .tag("result", "rejected").description("When the last reload with this result happened (Unix time)")
                .register(registry);
        inForce(sha256);
    }

    /** A reload was applied: {@code sha256} is the file in force now. */
    public synchronized void applied(String sha256) {
        applied.increment();
        lastApplied.set(System.currentTimeMillis());
        inForce(sha256);
    }

    public void rejected() {
        rejected.increment();
        lastRejected.set(System.currentTimeMillis());
    }

    private synchronized void inForce(String sha256) {
        if (info != null) {
            registry.remove(info);
        }
        info = Gauge.builder("sluice.config.info", () -> 1).tag("sha256", sha256 == null ? "" : sha256)
                .description("1, labelled with the SHA-256 of the configuration file in force").register(registry);
    }
}
