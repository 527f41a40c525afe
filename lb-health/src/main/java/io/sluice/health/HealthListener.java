package io.sluice.health;

/** Receives what the checker learns. Called on the target's event loop: implementations must not block. */
public interface HealthListener {

    /** The target crossed its rise or fall threshold. {@code reason} reads well after "UP"/"DOWN". */
    void stateChanged(HealthTarget target, boolean up, String reason);

    /** Every probe, for metrics. */
    default void probed(HealthTarget target, ProbeResult result, long durationNanos) {
    }
}
