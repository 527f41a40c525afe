package io.sluice.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * Caps retries at a percentage of requests (counted since start), with a small floor so a quiet listener can
 * still retry. When a cluster fails wholesale, retries then add at most that percentage to its load.
 */
final class RetryBudget {
    private static final long MIN_RETRIES = 3;

    private final int percent;
    private final LongAdder requests;
    private final LongAdder retries;

    RetryBudget(int percent) {
        this(percent, null);
    }

    /** A budget with a new percentage that goes on from {@code previous}'s counts (a reload changed it). */
    RetryBudget(int percent, RetryBudget previous) {
        this.percent = percent;
        this.requests = previous == null ? new LongAdder() : previous.requests;
        this.retries = previous == null ? new LongAdder() : previous.retries;
    }

    void request() {
        requests.increment();
    }

    /** Takes one retry from the budget, or returns false when it is spent. */
    boolean tryRetry() {
        if (percent == 0) {
            return false;
        }
        long allowed = Math.max(MIN_RETRIES, requests.sum() * percent / 100);
        if (retries.sum() >= allowed) {
            return false;
        }
        retries.increment();
        return true;
    }

    public long retries() {
        return retries.sum();
    }
}
