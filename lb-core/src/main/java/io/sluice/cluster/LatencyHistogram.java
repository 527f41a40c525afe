package io.sluice.cluster;

import java.util.concurrent.atomic.LongAdder;

/**
 * Response times of one server in fixed buckets, counted since start: cheap to record on an event loop (one
 * {@code numberOfLeadingZeros} and one add) and enough for the status page, which takes the difference of two
 * readings to get the last interval's p50 and p99. Buckets grow by powers of two from 64 µs to about 68 s,
 * so a percentile is known to within a factor of two: a dashboard's precision, not a benchmark's.
 */
public final class LatencyHistogram {
    /** Bucket i holds samples below {@code 2^(i + 16)} ns; the last one everything above. */
    public static final int BUCKETS = 21;
    private static final int SHIFT = 16;

    private final LongAdder[] counts = new LongAdder[BUCKETS];

    public LatencyHistogram() {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] = new LongAdder();
        }
    }

    public void record(long nanos) {
        counts[bucket(nanos)].increment();
    }

    static int bucket(long nanos) {
        long v = Math.max(0, nanos) >>> SHIFT;
        int b = v == 0 ? 0 : 64 - Long.numberOfLeadingZeros(v);
        return Math.min(b, BUCKETS - 1);
    }

    /** The upper bound of bucket {@code i} in nanoseconds (the last bucket has none: Long.MAX_VALUE). */
    public static long upperBoundNanos(int i) {
        return i == BUCKETS - 1 ? Long.MAX_VALUE : 1L << (i + SHIFT);
    }

    /** The counts so far, bucket by bucket. */
    public long[] snapshot() {
        long[] out = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            out[i] = counts[i].sum();
        }
        return out;
    }
}
