package io.sluice.balance;

import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * HAProxy's {@code slowstart}: a server that comes back (health UP, end of an ejection) takes
 * {@code weight × max(MIN_SHARE, elapsed / window)} until the window has passed, so a cold cache or JIT is not
 * flooded with a full share at once. Pickers are immutable, so the factor is frozen at build time and the
 * cluster rebuilds a few times per window ({@code Cluster.rebuildIfRamping}).
 */
public final class SlowStart {
    /** Share of its weight a server gets at the start of its ramp (Envoy's default min_weight_percent). */
    public static final double MIN_SHARE = 0.1;

    private final long windowNanos;
    private final LongSupplier clock;

    public SlowStart(Duration window, LongSupplier clock) {
        this.windowNanos = window == null ? 0 : window.toNanos();
        this.clock = clock;
    }

    public static SlowStart of(Duration window) {
        return new SlowStart(window, System::nanoTime);
    }

    /** The fraction of its weight {@code s} gets now: 1 outside a ramp. */
    public double factor(Endpoint s) {
        return factor(s, windowNanos, clock.getAsLong());
    }

    static double factor(Endpoint s, long windowNanos, long now) {
        long since = s.availableSinceNanos();
        if (windowNanos <= 0 || since == Endpoint.NOT_RAMPING) {
            return 1.0;
        }
        long elapsed = now - since;
        if (elapsed >= windowNanos) {
            return 1.0;
        }
        return Math.max(MIN_SHARE, Math.max(0, elapsed) / (double) windowNanos);
    }

    /** Effective weights of {@code servers} now, in list order. */
    public double[] weights(List<? extends Endpoint> servers) {
        long now = clock.getAsLong();
        double[] w = new double[servers.size()];
        for (int i = 0; i < w.length; i++) {
            Endpoint s = servers.get(i);
            w[i] = Math.max(1, s.weight()) * factor(s, windowNanos, now);
        }
        return w;
    }

    /** True when any of {@code servers} is inside its ramp at {@code now}. */
    public static boolean anyRamping(List<? extends Endpoint> servers, Duration window, long now) {
        long windowNanos = window == null ? 0 : window.toNanos();
        if (windowNanos <= 0) {
            return false;
        }
        for (Endpoint s : servers) {
            if (factor(s, windowNanos, now) < 1.0) {
                return true;
            }
        }
        return false;
    }

    public static Duration step(Duration window) {
        Duration tenth = window == null ? Duration.ZERO : window.dividedBy(10);
        return tenth.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : tenth;
    }
}
