package io.sluice.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * An event loop's ring of small direct buffers for messages written whole (the HTTP/1.1 encoders' one-buffer
 * heads, {@code DirectHeads}), each taken again once its last writer let it go. A pooled buffer per message cost
 * an allocation and a free through Netty's thread cache and recycler (their queues, about 3% of the loop's samples
 * on keep-alive HTTP/1.1 with two messages per request); here the ring keeps one reference to each of its buffers,
 * and a buffer whose count is back to that one (the socket wrote it and released it) is cleared and lent again.
 * One still held (a slow reader's queue, a write not yet completed) is left to its holders, and a new one takes its
 * place. Only on the loops' own threads ({@link LoopTime#threadFactory}), which give the ring's buffers back when
 * they end; elsewhere a buffer is allocated as before.
 *
 * <p>Reads whose size guess is small take theirs from the ring too ({@link BatchedReads}): a read buffer lives from
 * the moment the socket is readable until the handlers are done with the bytes, as briefly.
 *
 * <p>{@code -Dsluice.loopBuffers=false} turns it off, {@code =writes} keeps it for writes only (for A/B
 * comparisons).
 */
public final class LoopBuffers {
    /** The capacity of each: small heads and bodies; a larger message gets a buffer of its own size. */
    public static final int SIZE = 1024;
    /** More than the messages a loop writes in one pass before their writes complete, nearly always. */
    private static final int SLOTS = 64;
    private static final String SETTING = System.getProperty("sluice.loopBuffers", "");
    private static final boolean WRITES = !"false".equalsIgnoreCase(SETTING);
    private static final boolean READS = WRITES && !"writes".equalsIgnoreCase(SETTING);

    private final ByteBuf[] ring = new ByteBuf[SLOTS];
    private int next;

    LoopBuffers() {
    }

    /**
     * An empty buffer with room for {@code size} bytes, the caller's to write and hand on (the writer releases it
     * as any other). Its capacity may be larger than {@code size}.
     */
    public static ByteBuf take(ByteBufAllocator alloc, int size) {
        if (WRITES && size <= SIZE && Thread.currentThread() instanceof LoopTime.LoopThread loop) {
            return loop.buffers().next(alloc);
        }
        return alloc.buffer(size, size);
    }

    /**
     * A buffer to read into when the read's size guess is small, else null: the read fills up to its capacity
     * ({@link #SIZE}), and the handlers release it as any read buffer.
     */
    static ByteBuf forRead(ByteBufAllocator alloc, int guess) {
        if (READS && guess <= SIZE && Thread.currentThread() instanceof LoopTime.LoopThread loop) {
            return loop.buffers().next(alloc);
        }
        return null;
    }

    private ByteBuf next(ByteBufAllocator alloc) {
        int i = next;
        next = (i + 1) & (SLOTS - 1);
        ByteBuf b = ring[i];
        if (b != null) {
            if (b.refCnt() == 1) {
                return b.clear().retain();
            }
            b.release(); // its holders free it
        }
        b = alloc.directBuffer(SIZE, SIZE);
        ring[i] = b;
        return b.retain();
    }

    /** The loop ends: the ring lets its buffers go (holders of one still free it when they are done). */
    void releaseAll() {
        for (int i = 0; i < SLOTS; i++) {
            if (ring[i] != null) {
                ring[i].release();
                ring[i] = null;
            }
        }
    }
}
