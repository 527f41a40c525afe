package io.sluice.net;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A count kept per event loop, for gauges read by a scrape: each loop changes only its own slot, with plain
 * (opaque) loads and stores, and a reader sums the slots. An {@code AtomicInteger} shared by the loops costs a
 * locked instruction per change, several per proxied request; a slot written by one thread needs none. Slots sit
 * 128 bytes apart so that two loops never write the same cache line.
 *
 * <p>Only the loop numbered {@code loop} by {@link LoopIndex} may call {@link #add} for that slot. A sum read
 * while loops change their slots is a moment's value of each slot, which is all a gauge promises.
 */
public final class LoopCounts {
    private static final int STRIDE = 16; // longs: 128 bytes, two cache lines (adjacent-line prefetch)
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots;

    public LoopCounts(int loops) {
        // One stride of padding before the first slot too, so that it shares no line with the array's header.
        this.slots = new long[(loops + 1) * STRIDE];
    }

    /** Adds {@code delta} to the slot of loop {@code loop}; only that loop's thread may call it. */
    public void add(int loop, int delta) {
        int i = (loop + 1) * STRIDE;
        SLOT.setOpaque(slots, i, (long) SLOT.getOpaque(slots, i) + delta);
    }

    public void increment(int loop) {
        add(loop, 1);
    }

    public void decrement(int loop) {
        add(loop, -1);
    }

    /** The total over every loop; any thread. */
    public long sum() {
        long n = 0;
        for (int i = STRIDE; i < slots.length; i += STRIDE) {
            n += (long) SLOT.getOpaque(slots, i);
        }
        return n;
    }
}
