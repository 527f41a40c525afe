package io.sluice.balance;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An endpoint whose load and ramp a test sets directly: algorithms see nothing else of a server, so their
 * tests need no sockets, leases or clusters.
 */
final class FakeEndpoint implements Endpoint {
    private final String label;
    private final int weight;
    private final AtomicInteger load = new AtomicInteger();
    private final PeakEwma latency = new PeakEwma();
    private volatile long availableSinceNanos = NOT_RAMPING;

    FakeEndpoint(String label, int weight) {
        this.label = label;
        this.weight = weight;
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public int weight() {
        return weight;
    }

    @Override
    public int load() {
        return load.get();
    }

    void load(int n) {
        load.set(n);
    }

    /** One more unit of work that stays, as a long-lived connection does. */
    void addLoad() {
        load.incrementAndGet();
    }

    @Override
    public PeakEwma latency() {
        return latency;
    }

    @Override
    public long availableSinceNanos() {
        return availableSinceNanos;
    }

    /** The endpoint came back at {@code nanoTime}: slow start ramps it from then. */
    void startSlowStart(long nanoTime) {
        availableSinceNanos = nanoTime;
    }

    @Override
    public String toString() {
        return label + " (weight " + weight + ")";
    }
}
