package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;

/**
 * The raw relay's read buffers of its smallest size ({@link UringConnection#MIN_BUFFER}), kept by each event loop
 * for its next read instead of going back to the allocator: a relayed exchange of small messages takes a buffer
 * for every read and gives it back after the send, and Netty's pooled allocator does that through its thread
 * cache (a recycled entry, an MPSC queue offer, a new {@code ByteBuf} object each time), about 3% of the loop's
 * samples under {@code tcp_small}; with the spares, 0.967-0.987x the CPU per request
 * ({@code docs/bench/measurements-2026-12-08-side-by-side.md}). Only for buffers the relay uses by address and
 * never hands on, given back once the kernel is done with them.
 *
 * <p>At most {@link #MAX_SPARES} per loop (1 MiB), released when the loop's thread ends.
 * {@code -Dsluice.tcp.rawRelay.spareBuffers=false} sends every buffer back to the allocator (for A/B comparisons).
 */
final class SpareReadBuffers {
    static final int MAX_SPARES = 64;
    private static final boolean ENABLED =
            !"false".equalsIgnoreCase(System.getProperty("sluice.tcp.rawRelay.spareBuffers"));
    private static final FastThreadLocal<ArrayDeque<ByteBuf>> SPARES = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<ByteBuf> initialValue() {
            return new ArrayDeque<>(MAX_SPARES);
        }

        @Override
        protected void onRemoval(ArrayDeque<ByteBuf> spares) {
            ByteBuf b;
            while ((b = spares.pollLast()) != null) {
                b.release();
            }
        }
    };

    private SpareReadBuffers() {
    }

    /** A buffer of exactly {@code size} bytes: a spare one when there is one of that size. */
    static ByteBuf take(ByteBufAllocator allocator, int size) {
        if (ENABLED && size == UringConnection.MIN_BUFFER) {
            ByteBuf b = SPARES.get().pollLast();
            if (b != null) {
                return b;
            }
        }
        return allocator.directBuffer(size, size);
    }

    /** Gives back a buffer from {@link #take}, which nothing reads or writes any more. */
    static void give(ByteBuf b) {
        if (ENABLED && b.capacity() == UringConnection.MIN_BUFFER) {
            ArrayDeque<ByteBuf> spares = SPARES.get();
            if (spares.size() < MAX_SPARES) {
                spares.addLast(b);
                return;
            }
        }
        b.release();
    }

    /** The calling thread's spares, for tests. */
    static int spares() {
        return SPARES.get().size();
    }
}
