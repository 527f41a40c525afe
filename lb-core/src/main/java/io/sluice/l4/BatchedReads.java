package io.sluice.l4;

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
 * was 16 round trips through the event loop instead of one or two. The loop is capped at
 * {@link #MAX_READS_PER_LOOP} buffers (64 KiB each at most), which bounds how far one loop can run ahead of the
 * writability check made after it.
 */
public final class BatchedReads implements RecvByteBufAllocator {
    public static final BatchedReads INSTANCE = new BatchedReads();
    static final int MAX_READS_PER_LOOP = 16;

    private final AdaptiveRecvByteBufAllocator sizes = new AdaptiveRecvByteBufAllocator();

    private BatchedReads() {
    }

    @Override
    public Handle newHandle() {
        return new BatchHandle((ExtendedHandle) sizes.newHandle());
    }

    private static final class BatchHandle implements ExtendedHandle {
        private final ExtendedHandle sizes;
        private int reads;
        private int lastBytes;
        private int attempted;
        /** A full buffer says the socket may hold more (what Netty's handles assume as well). */
        private final UncheckedBooleanSupplier bufferFilled = () -> attempted == lastBytes;

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
            reads = 0;
            lastBytes = 0;
            sizes.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            reads += numMessages;
            sizes.incMessagesRead(numMessages);
        }

        @Override
        public void lastBytesRead(int bytes) {
            lastBytes = bytes;
            sizes.lastBytesRead(bytes);
        }

        @Override
        public int lastBytesRead() {
            return sizes.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attempted = bytes;
            sizes.attemptedBytesRead(bytes);
        }

        @Override
        public int attemptedBytesRead() {
            return sizes.attemptedBytesRead();
        }

        @Override
        public boolean continueReading() {
            return continueReading(bufferFilled); // one supplier per handle, not one per read
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return lastBytes > 0 && reads < MAX_READS_PER_LOOP && maybeMoreDataSupplier.get();
        }

        @Override
        public void readComplete() {
            sizes.readComplete();
        }
    }
}
