package io.sluice.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The meters registered for one listener, cluster or server. Closing the group removes them from the registry,
 * so a thing that goes away (at shutdown, or when a reload drops it) leaves no stale series behind, while the
 * meters of things that stay are never touched and keep counting.
 */
public final class MeterGroup implements AutoCloseable {
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final List<Runnable> onClose = new ArrayList<>();

    MeterGroup(MeterRegistry registry) {
        this.registry = registry;
    }

    synchronized <M extends Meter> M add(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Takes one meter out (a series whose subject went away while the group stays). */
    synchronized void remove(Meter meter) {
        if (meters.remove(meter)) {
            registry.remove(meter);
        }
    }

    /** Runs when the group closes, before its meters go: for groups that follow a changing set of series. */
    synchronized void onClose(Runnable r) {
        onClose.add(r);
    }

    public synchronized int size() {
        return meters.size();
    }

    @Override
    public synchronized void close() {
        onClose.forEach(Runnable::run);
        onClose.clear();
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }
}
