package io.sluice.net;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Open connections per client in a fixed amount of memory: a count-min sketch of {@link #ROWS} rows. A client's
 * connection adds one to one counter per row (picked by parts of its hash); its count is the least of those
 * counters, which is never below the truth (other clients can only add). Releasing takes the same counters down,
 * so the sketch holds exactly the connections open now and needs no eviction: nothing a spoofed flood does makes
 * it grow; what it can do is share counters with a real client, which then looks busier than it is (with 64K
 * counters per row and two rows, that takes tens of thousands of connections open at once).
 *
 * <p>Thread safety without locks: each counter is changed by atomic add, and a connection is admitted when
 * every counter, after its own add, is within the limit. Adds are never lost, so two connections of one client
 * racing at the limit each see the other's add: both may be refused, never both admitted past it.
 */
final class ConnectionCounts {
    static final int ROWS = 2;
    static final int WIDTH = 1 << 16;

    private final AtomicIntegerArray counters = new AtomicIntegerArray(ROWS * WIDTH);

    /** Counts a connection of the client with {@code hash}; false (and nothing counted) when over {@code limit}. */
    boolean acquire(long hash, int limit) {
        int a = first(hash);
        int b = second(hash);
        int count = Math.min(counters.incrementAndGet(a), counters.incrementAndGet(b));
        if (count > limit) {
            release(hash);
            return false;
        }
        return true;
    }

    /** Once per acquired connection, when it closes. */
    void release(long hash) {
        counters.decrementAndGet(first(hash));
        counters.decrementAndGet(second(hash));
    }

    /** The client's estimated count (for tests). */
    int count(long hash) {
        return Math.min(counters.get(first(hash)), counters.get(second(hash)));
    }

    private static int first(long hash) {
        return (int) hash & (WIDTH - 1);
    }

    private static int second(long hash) {
        return WIDTH + ((int) (hash >>> 32) & (WIDTH - 1));
    }
}
