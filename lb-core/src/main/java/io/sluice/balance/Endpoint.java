package io.sluice.balance;

/**
 * What an algorithm may know about a place it can send work: the few live numbers it weighs, and a stable
 * name. Kept this small so that algorithms can be built and tested without sockets, health checks or
 * clusters, and so that the cluster package depends on balancing, never the reverse.
 */
public interface Endpoint {
    /** {@link #availableSinceNanos()} of an endpoint that has been available since its cluster was built. */
    long NOT_RAMPING = Long.MIN_VALUE;

    /**
     * The configured address as text. Hashing algorithms sort and place endpoints by it, so it must be the
     * same on every instance given the same config, never anything process-specific.
     */
    String label();

    /** The configured weight (at least 1 in any valid config). */
    int weight();

    /** Work in flight now, read live on every pick by the load-aware algorithms; must not lock. */
    int load();

    /** Response latency estimate, read by least_response_time. */
    PeakEwma latency();

    /**
     * The {@link System#nanoTime()} at which this endpoint last became available, or {@link #NOT_RAMPING};
     * slow start ramps its weight from this instant.
     */
    long availableSinceNanos();

    /**
     * True while the endpoint is at its own limit of work in flight ({@code max_connections}): pickers pass it
     * over as if tried. A hint read live, without a lock; the caller takes the slot itself, atomically.
     */
    default boolean full() {
        return false;
    }
}
