package io.sluice.http;

import io.sluice.net.LoopTime;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Caps retries at a percentage of the requests of the last {@link #WINDOW_SECONDS} seconds, with a small floor
 * per window so a quiet listener can still retry. When a cluster fails wholesale, retries then add at most that
 * percentage to its load, however long the process ran before: counts since start would let the successes of
 * a long quiet uptime pay for a retry storm (Finagle's RetryBudget keeps a time window for the same reason).
 *
 * <p>The window is a ring of one-second buckets. Each bucket is one long per counter that packs the second it
 * belongs to (high 32 bits) with its count (low 32 bits), so moving a bucket on to a new second and counting
 * in it are one compare-and-set: lock-free and exact whatever the number of event loops sharing the listener.
 */
final class RetryBudget {
    static final int MIN_RETRIES = 3;
    static final int WINDOW_SECONDS = 10;
    private static final long BUCKET_NANOS = 1_000_000_000L;
    private static final long COUNT_MASK = 0xFFFF_FFFFL;

    private final int percent;
    private final LongSupplier nanoClock;
    private final long origin;
    private final AtomicLongArray requests;
    private final AtomicLongArray retriesInWindow;
    private final LongAdder retries;

    RetryBudget(int percent) {
        this(percent, null, LoopTime::nanoTime);
    }

    /** A budget with a new percentage that goes on from {@code previous}'s counts (a reload changed it). */
    RetryBudget(int percent, RetryBudget previous) {
        this(percent, previous, previous == null ? LoopTime::nanoTime : previous.nanoClock);
    }

    RetryBudget(int percent, RetryBudget previous, LongSupplier nanoClock) {
        this.percent = percent;
        this.nanoClock = nanoClock;
        this.origin = previous == null ? nanoClock.getAsLong() : previous.origin;
        this.requests = previous == null ? new AtomicLongArray(WINDOW_SECONDS) : previous.requests;
        this.retriesInWindow = previous == null ? new AtomicLongArray(WINDOW_SECONDS) : previous.retriesInWindow;
        this.retries = previous == null ? new LongAdder() : previous.retries;
    }

    void request() {
        increment(requests, second());
    }

    /** Takes one retry from the budget, or returns false when it is spent. */
    boolean tryRetry() {
        if (percent == 0) {
            return false;
        }
        long now = second();
        long allowed = Math.max(MIN_RETRIES, sum(requests, now) * percent / 100);
        if (sum(retriesInWindow, now) >= allowed) {
            return false;
        }
        // Two loops may both pass the check above and retry: the budget is then over by one, never by more
        // than the number of loops.
        increment(retriesInWindow, now);
        retries.increment();
        return true;
    }

    /** A resend the budget does not limit (a dead keep-alive connection): counted, not taken from the window. */
    void resentOutsideBudget() {
        retries.increment();
    }

    /** Retries since start, for the listener's counter. */
    public long retries() {
        return retries.sum();
    }

    private long second() {
        return ((nanoClock.getAsLong() - origin) / BUCKET_NANOS) & COUNT_MASK;
    }

    private static void increment(AtomicLongArray buckets, long second) {
        int i = (int) (second % WINDOW_SECONDS);
        long prev;
        long next;
        do {
            prev = buckets.get(i);
            next = (prev >>> 32) == second ? prev + 1 : (second << 32) | 1;
        } while (!buckets.compareAndSet(i, prev, next));
    }

    /** The counts of the buckets whose second lies within the window ending at {@code now}. */
    private static long sum(AtomicLongArray buckets, long now) {
        long total = 0;
        for (int i = 0; i < WINDOW_SECONDS; i++) {
            long b = buckets.get(i);
            long age = now - (b >>> 32);
            if (age >= 0 && age < WINDOW_SECONDS) {
                total += b & COUNT_MASK;
            }
        }
        return total;
    }
}
