package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Peak-EWMA of a server's response latency, as Finagle's and Linkerd's balancers keep it: a sample above the
 * current estimate replaces it at once (a server that turns slow is avoided at once), a lower one is blended
 * in with a weight that depends on the time since the last sample (so the estimate relaxes over
 * {@code ewma_decay}, whatever the request rate). Reads decay the estimate toward zero without writing, so a
 * server that was slow long ago, and has had no traffic since, gets tried again.
 *
 * <p>The estimate also decays by the picks a server misses ({@link #missedPick()}): every
 * {@link #MISS_HALF_LIFE} comparison it loses halves it. Time alone cannot bring a server back whose first
 * responses were slow while its peers answer fast: it is never picked, so it never gets a sample to lower its
 * estimate, and a decay of seconds is hundreds of requests. Decaying by misses bounds how many picks pass before
 * it is probed again, at any request rate: a server k times slower than its peers waits about
 * {@code MISS_HALF_LIFE * log2(k)} lost comparisons between probes. When it is picked, the decay so far is kept
 * in the estimate ({@link #picked()}), so a fast answer then blends into the decayed value and a slow one
 * replaces it as a peak.
 *
 * <p>Lock-free: the estimate and its timestamp are two atomics. Two samples recorded at the same instant can
 * blend with a slightly wrong weight; that costs a little precision in an estimate, never correctness.
 */
public final class PeakEwma {
    /**
     * Lost comparisons that halve the estimate. 1: a server whose first answer was 400 times slower than its peers'
     * (a 200 ms cold start against 0.5 ms) is probed again after about 9 lost comparisons; 2 starved it for too long
     * on a loaded machine (a third of its share over 300 requests).
     */
    public static final double MISS_HALF_LIFE = 1;
    /** The decay exponent per lost comparison: {@code exp(-MISS_RATE)} = 2^(-1 / MISS_HALF_LIFE). */
    public static final double MISS_RATE = Math.log(2) / MISS_HALF_LIFE;
    /** Past this many misses the estimate is next to nothing (2^-512, never 0); the cap keeps the count small. */
    private static final int MAX_MISSED = 1024;

    private final AtomicLong costBits = new AtomicLong(Double.doubleToRawLongBits(0.0));
    private final AtomicLong stamp = new AtomicLong(System.nanoTime());
    private volatile double tauNanos = BalancerConfig.DEFAULT_EWMA_DECAY.toNanos();
    private final AtomicInteger missed = new AtomicInteger();

    /** How fast old samples fade: the EWMA's time constant. */
    public void decay(Duration decay) {
        this.tauNanos = Math.max(1, decay.toNanos());
    }

    public void record(long rttNanos) {
        record(rttNanos, System.nanoTime());
    }

    public void record(long rttNanos, long nowNanos) {
        double rtt = Math.max(0, rttNanos);
        long last = stamp.getAndSet(nowNanos);
        double w = Math.exp(-Math.max(0, nowNanos - last) / tauNanos);
        long prev;
        double next;
        do {
            prev = costBits.get();
            double cost = Double.longBitsToDouble(prev);
            next = rtt > cost ? rtt : cost * w + rtt * (1 - w);
        } while (!costBits.compareAndSet(prev, Double.doubleToRawLongBits(next)));
    }

    /** The server lost a comparison to another: its estimate decays a step. */
    public void missedPick() {
        if (missed.get() < MAX_MISSED) {
            missed.incrementAndGet();
        }
    }

    /** Comparisons lost since this server was last picked. */
    public int missedPicks() {
        return missed.get();
    }

    /** The server was picked: the decay of its misses becomes part of the estimate, and the count restarts. */
    public void picked() {
        if (missed.get() == 0) {
            return;
        }
        double factor = Math.exp(-missed.getAndSet(0) * MISS_RATE);
        long prev;
        do {
            prev = costBits.get();
        } while (!costBits.compareAndSet(prev,
                Double.doubleToRawLongBits(Double.longBitsToDouble(prev) * factor)));
    }

    /** The estimate as of the last sample ({@link #stampNanos()}), before any decay; 0 until the first. */
    public double lastCost() {
        return Double.longBitsToDouble(costBits.get());
    }

    /** When the last sample was recorded. */
    public long stampNanos() {
        return stamp.get();
    }

    public double tauNanos() {
        return tauNanos;
    }

    /** The estimate in nanoseconds as of {@code nowNanos}, after time and missed picks; 0 until the first sample. */
    public double cost(long nowNanos) {
        double cost = Double.longBitsToDouble(costBits.get()) * Math.exp(-missed.get() * MISS_RATE);
        if (cost == 0) {
            return 0;
        }
        long td = nowNanos - stamp.get();
        return td <= 0 ? cost : cost * Math.exp(-td / tauNanos);
    }
}
