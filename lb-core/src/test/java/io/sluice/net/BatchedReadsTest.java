package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The read loop of {@link BatchedReads}: on while buffers come back full, with autoRead off, up to the cap. */
class BatchedReadsTest {
    private final ChannelConfig config = new DefaultChannelConfig(new EmbeddedChannel());

    private RecvByteBufAllocator.ExtendedHandle handle(boolean autoRead) {
        config.setAutoRead(autoRead);
        RecvByteBufAllocator.ExtendedHandle h = (RecvByteBufAllocator.ExtendedHandle) BatchedReads.INSTANCE.newHandle();
        h.reset(config);
        return h;
    }

    private static void read(RecvByteBufAllocator.Handle h, int attempted, int got) {
        h.attemptedBytesRead(attempted);
        h.lastBytesRead(got);
        if (got > 0) {
            h.incMessagesRead(1);
        }
    }

    @Test
    void fullBuffersKeepTheLoopGoingWithoutAutoRead() {
        RecvByteBufAllocator.ExtendedHandle h = handle(false);
        read(h, 2048, 2048);
        assertThat(h.continueReading()).isTrue();
        read(h, 2048, 100);
        assertThat(h.continueReading()).as("a short read means the socket is empty").isFalse();
    }

    @Test
    void endOfStreamOrNothingReadStopsTheLoop() {
        RecvByteBufAllocator.ExtendedHandle h = handle(false);
        read(h, 2048, 0);
        assertThat(h.continueReading()).isFalse();
        h.reset(config);
        read(h, 2048, -1);
        assertThat(h.continueReading()).isFalse();
    }

    @Test
    void theLoopStopsAtTheByteCapSoTheHandlerDecidesAgain() {
        RecvByteBufAllocator.ExtendedHandle h = handle(false);
        int chunk = 64 * 1024;
        for (int read = chunk; read < BatchedReads.MAX_BYTES_PER_LOOP; read += chunk) {
            read(h, chunk, chunk);
            assertThat(h.continueReading()).as("after %d bytes", read).isTrue();
        }
        read(h, chunk, chunk);
        assertThat(h.continueReading()).isFalse();
        h.reset(config);
        read(h, chunk, chunk);
        assertThat(h.continueReading()).as("a new loop starts from zero").isTrue();
    }

    @Test
    void switchingAutoReadOffStopsTheLoopAtOnce() {
        RecvByteBufAllocator.ExtendedHandle h = handle(true);
        read(h, 2048, 2048);
        assertThat(h.continueReading()).isTrue();
        config.setAutoRead(false); // the peer became unwritable while this loop ran
        read(h, 2048, 2048);
        assertThat(h.continueReading()).isFalse();
    }

    @Test
    void aTransportsOwnMoreDataHintIsRespected() {
        RecvByteBufAllocator.ExtendedHandle h = handle(false);
        read(h, 2048, 2048);
        assertThat(h.continueReading(() -> false)).isFalse();
        assertThat(h.continueReading(() -> true)).isTrue();
    }

    /** A handler that will take the socket's rest another way (a body to splice) ends the loop after its read. */
    @Test
    void endBatchEndsTheLoopAfterTheReadBeingHandledOnly() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> result = new java.util.concurrent.atomic.AtomicReference<>();
        Thread loop = LoopTime.threadFactory("end-batch-test").newThread(() -> {
            RecvByteBufAllocator.ExtendedHandle h = handle(false);
            read(h, 2048, 2048);
            BatchedReads.endBatch(); // asked for while the read is handled
            boolean after = h.continueReading();
            read(h, 2048, 2048); // a read after that (the next loop) is not ended by it
            boolean next = h.continueReading();
            result.set(after + " " + next);
        });
        loop.start();
        loop.join(10_000);
        assertThat(result.get()).isEqualTo("false true");
    }
}
