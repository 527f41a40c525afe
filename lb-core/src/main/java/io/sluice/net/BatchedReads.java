package io.sluice.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Adaptive buffer sizes, and a read loop that goes on while the socket has more, also when reads are asked for
 * one at a time ({@code autoRead} off). Netty's own handles stop after one buffer unless {@code autoRead} is on,
 * so each {@code read()} of a streaming body cost a read, a read-complete, a flush and a send per buffer: 1 MiB
 * was 16 round trips through the event loop instead of four.
 *
 * <p>A loop stops once it has {@link #MAX_BYTES_PER_LOOP}: a handler that asked for one read gets that much plus
 * at most one more buffer (up to {@link #MAX_READ_BUFFER}) before it decides again, so backpressure overshoots
 * the write buffer's high water mark by at most about twice its size. On a channel whose reading is switched
 * by {@code autoRead} (a tunnel after a 101), the loop also stops as soon as reading is switched off, as
 * Netty's own handles do.
 */
public final class BatchedReads implements RecvByteBufAllocator {
    public static final BatchedReads INSTANCE = new BatchedReads();
    static final int MAX_BYTES_PER_LOOP = 256 * 1024;
    /**
     * The largest buffer one read may fill. Netty's adaptive sizing stops at 64 KiB by default; on a 1 MiB
     * transfer, reads of up to 256 KiB took 7% off the HTTP proxy's CPU per MiB and 14-17% off the TCP relay's
     * (fewer receives and sends for the same bytes). Sizes still adapt: small answers keep small buffers, and an
     * idle connection holds none.
     */
    public static final int MAX_READ_BUFFER = 256 * 1024;

    private final AdaptiveRecvByteBufAllocator sizes = adaptiveSizes();

    private BatchedReads() {
    }

    /**
     * Ends the read loop running on this thread after the read being handled: for a handler that will take the
     * rest of the socket's bytes another way (a response body to splice) and wants none more in buffers. Only from
     * inside a channel's read, on its event loop.
     */
    public static void endBatch() {
        if (Thread.currentThread() instanceof LoopTime.LoopThread loop) {
            loop.endReads = true; // forgotten at the next read's pass (LoopTime.newPass)
        }
    }

    /** Netty's adaptive read sizes (its own minimum and initial guess), up to {@link #MAX_READ_BUFFER}. */
    public static AdaptiveRecvByteBufAllocator adaptiveSizes() {
        return new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ_BUFFER);
    }

    @Override
    public Handle newHandle() {
        return new BatchHandle((ExtendedHandle) sizes.newHandle());
    }

    /** Also the "buffer filled" supplier of its own loop: one object per channel instead of two. */
    private static final class BatchHandle implements ExtendedHandle, UncheckedBooleanSupplier {
        private final ExtendedHandle sizes;
        private ChannelConfig config;
        private boolean autoReadAtStart;
        private long bytes;
        private int lastBytes;
        private int attempted;

        BatchHandle(ExtendedHandle sizes) {
            this.sizes = sizes;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return sizes.allocate(alloc);
        }

        @Override
        public int guess() {
            return sizes.guess();
        }

        @Override
        public void reset(ChannelConfig config) {
            this.config = config;
            autoReadAtStart = config.isAutoRead();
            bytes = 0;
            lastBytes = 0;
            sizes.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            sizes.incMessagesRead(numMessages);
        }

        /**
         * A read completed: what the handlers do with it is timed from now ({@link LoopTime}). An io_uring run
         * goes on processing completions while new ones come, a request's read and its response's read among
         * them, so a time kept for the whole run would make such a request take no time at all.
         */
        @Override
        public void lastBytesRead(int n) {
            LoopTime.newPass();
            lastBytes = n;
            if (n > 0) {
                bytes += n;
            }
            sizes.lastBytesRead(n);
        }

        @Override
        public int lastBytesRead() {
            return sizes.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int n) {
            attempted = n;
            sizes.attemptedBytesRead(n);
        }

        @Override
        public int attemptedBytesRead() {
            return sizes.attemptedBytesRead();
        }

        /** A full buffer says the socket may hold more (what Netty's handles assume as well). */
        @Override
        public boolean get() {
            return attempted == lastBytes;
        }

        @Override
        public boolean continueReading() {
            return continueReading(this); // no supplier per read
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            if (autoReadAtStart && !config.isAutoRead()) {
                return false; // backpressure switched reading off during this loop
            }
            if (!(lastBytes > 0 && bytes < MAX_BYTES_PER_LOOP && maybeMoreDataSupplier.get())) {
                return false;
            }
            return !(Thread.currentThread() instanceof LoopTime.LoopThread loop && loop.endReads);
        }

        @Override
        public void readComplete() {
            sizes.readComplete();
        }
    }
}
