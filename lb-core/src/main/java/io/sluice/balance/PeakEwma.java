package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Peak-EWMA of a server's response latency, as Finagle's and Linkerd's balancers keep it: a sample above the
 * current estimate replaces it at once (a server that turns slow is avoided at once), a lower one is blended
 * in with a weight that depends on the time since the last sample (so the estimate relaxes over
 * {@code ewma_decay}, whatever the request rate). Reads decay the estimate toward zero without writing, so a
 * server that was slow long ago, and has had no traffic since, gets tried again.
 *
 * <p>Lock-free: the estimate and its timestamp are two atomics. Two samples recorded at the same instant can
 * blend with a slightly wrong weight; that costs a little precision in an estimate, never correctness.
 */
public final class PeakEwma {
    private final AtomicLong costBits = new AtomicLong(Double.doubleToRawLongBits(0.0));
    private final AtomicLong stamp = new AtomicLong(System.nanoTime());
    private volatile double tauNanos = BalancerConfig.DEFAULT_EWMA_DECAY.toNanos();

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

    /** The estimate in nanoseconds as of {@code nowNanos}; 0 until the first sample. */
    public double cost(long nowNanos) {
        double cost = Double.longBitsToDouble(costBits.get());
        if (cost == 0) {
            return 0;
        }
        long td = nowNanos - stamp.get();
        return td <= 0 ? cost : cost * Math.exp(-td / tauNanos);
    }
}
