package io.sluice.health;

/** Envoy's panic rule, in one place so every caller applies the same arithmetic. */
public final class PanicThreshold {
    private PanicThreshold() {
    }

    /** True when some but fewer than {@code thresholdPercent}% of {@code total} targets are available. */
    public static boolean inPanic(int available, int total, int thresholdPercent) {
        return available > 0 && total > 0 && available * 100L < (long) thresholdPercent * total;
    }
}
