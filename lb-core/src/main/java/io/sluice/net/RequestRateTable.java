package io.sluice.net;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Token buckets of many clients in a fixed amount of memory, shared by every event loop of a listener.
 *
 * <p>Each bucket is GCRA (the generic cell rate algorithm, a token bucket in one number): a client's
 * "theoretical arrival time" {@code tat} moves one interval ({@code 1/rate}) on per request granted; a request is
 * granted while {@code tat} stays within {@code burst} intervals of now. A {@code tat} in the past is a full
 * bucket, which is the same as no entry at all; so the table can forget any client at any time, at worst
 * granting it one more burst.
 *
 * <p>Layout: {@code sets} sets of {@link #WAYS} slots, each slot one {@code long}: a 20-bit tag (more bits of the
 * client's hash; 0 = empty) and its {@code tat} in microseconds (44 bits, modulo 2^44: 203 days). A client
 * lives in the set its hash picks; a client that is not there takes the slot whose {@code tat} is earliest:
 * an empty or full bucket when there is one, else the client nearest to full. So a flood of new (spoofed)
 * sources replaces each other and leaves the clients that are being limited (their {@code tat} is far ahead)
 * in place, and memory never grows.
 *
 * <p>Thread safety without locks: a slot is one {@code long}, read once and replaced with one compare-and-set of
 * that value, so a decision always starts from one consistent (tag, tat) pair; a lost race (another loop changed
 * the slot) is retried from a fresh read. Two loops inserting the same new client at once may leave it in two
 * slots; lookups take the first, the other ages out, and the client gained at most one extra burst. After
 * {@link #MAX_TRIES} lost races (a set under heavy contention) the request is granted: a limiter that fails open
 * for an instant is better than a proxy that spins.
 */
final class RequestRateTable {
    static final int WAYS = 8;
    static final int MAX_TRIES = 8;
    private static final int TAG_BITS = 20;
    private static final int TIME_BITS = 64 - TAG_BITS;
    private static final long TIME_MASK = (1L << TIME_BITS) - 1;
    /** Beyond any bucket the config allows (10^6 requests at 1 per second: 10^12 µs), within half the wrap. */
    private static final long MAX_AHEAD = 1L << 42;

    private final AtomicLongArray slots;
    private final int setMask;
    private final LongSupplier nanoTime;
    private final long epoch;

    /** {@code sets} is rounded up to a power of two. */
    RequestRateTable(int sets, LongSupplier nanoTime) {
        int n = Integer.highestOneBit(Math.max(1, sets - 1)) << 1;
        this.slots = new AtomicLongArray(n * WAYS);
        this.setMask = n - 1;
        this.nanoTime = nanoTime;
        this.epoch = nanoTime.getAsLong();
    }

    int capacity() {
        return slots.length();
    }

    /**
     * Takes one token of the client with {@code hash}: 0 when granted, else the nanoseconds until one would be
     * granted. {@code rate} per second, bucket of {@code burst}, both at least 1.
     */
    long acquire(long hash, int rate, int burst) {
        long interval = Math.max(1, 1_000_000L / rate);
        long span = interval * burst;
        long now = ((nanoTime.getAsLong() - epoch) / 1000) & TIME_MASK;
        int base = (int) (hash & setMask) * WAYS;
        long tag = hash >>> TIME_BITS;
        if (tag == 0) {
            tag = 1;
        }
        for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
            int victim = base;
            long victimAhead = Long.MAX_VALUE;
            long victimValue = 0;
            boolean found = false;
            int slot = base;
            long value = 0;
            for (int i = base; i < base + WAYS; i++) {
                long v = slots.get(i);
                if (v >>> TIME_BITS == tag) {
                    found = true;
                    slot = i;
                    value = v;
                    break;
                }
                long ahead = v == 0 ? Long.MIN_VALUE : ahead(v, now);
                if (ahead < victimAhead) {
                    victimAhead = ahead;
                    victim = i;
                    victimValue = v;
                }
            }
            long start = now;
            if (found) {
                long ahead = ahead(value, now);
                if (ahead > 0) {
                    // At most one bucket ahead: after a reload to a smaller bucket, the new size holds at once.
                    start = now + Math.min(ahead, span);
                }
            } else {
                slot = victim;
                value = victimValue;
            }
            long tat = start + interval;
            long wait = tat - now - span;
            if (wait > 0) {
                return wait * 1000;
            }
            if (slots.compareAndSet(slot, value, (tag << TIME_BITS) | (tat & TIME_MASK))) {
                return 0;
            }
        }
        return 0;
    }

    /**
     * How far the slot's {@code tat} is ahead of now, in microseconds; not positive when the bucket is full.
     * Differences are taken modulo 2^44: a granted {@code tat} is never more than a bucket ahead (at most
     * 10^12 µs, by the config's bounds), so one that seems more than {@link #MAX_AHEAD} ahead is an entry left
     * untouched for months, whose time wrapped: a full bucket. (One untouched for 152 to 203 days wraps into
     * the near future instead and costs its client at most one bucket's wait: accepted, as a table of 64K
     * clients seldom keeps one that long.)
     */
    private static long ahead(long value, long now) {
        long d = ((value & TIME_MASK) - now) << TAG_BITS >> TAG_BITS;
        return d > MAX_AHEAD ? Long.MIN_VALUE + 1 : d;
    }
}
