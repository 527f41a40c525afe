package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

/** The read loop of {@link BatchedReads}: on while buffers come back full, with autoRead off, up to the cap. */
class BatchedReadsTest {
    private final ChannelConfig config = new DefaultChannelConfig(new EmbeddedChannel());

    private RecvByteBufAllocator.ExtendedHandle handle() {
        config.setAutoRead(false);
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
        RecvByteBufAllocator.ExtendedHandle h = handle();
        read(h, 2048, 2048);
        assertThat(h.continueReading()).isTrue();
        read(h, 2048, 100);
        assertThat(h.continueReading()).as("a short read means the socket is empty").isFalse();
    }

    @Test
    void endOfStreamOrNothingReadStopsTheLoop() {
        RecvByteBufAllocator.ExtendedHandle h = handle();
        read(h, 2048, 0);
        assertThat(h.continueReading()).isFalse();
        h.reset(config);
        read(h, 2048, -1);
        assertThat(h.continueReading()).isFalse();
    }

    @Test
    void theLoopStopsAtTheCapSoWritabilityIsCheckedAgain() {
        RecvByteBufAllocator.ExtendedHandle h = handle();
        for (int i = 1; i < BatchedReads.MAX_READS_PER_LOOP; i++) {
            read(h, 1024, 1024);
            assertThat(h.continueReading()).as("after read %d", i).isTrue();
        }
        read(h, 1024, 1024);
        assertThat(h.continueReading()).isFalse();
        h.reset(config);
        read(h, 1024, 1024);
        assertThat(h.continueReading()).as("a new loop starts from zero").isTrue();
    }

    @Test
    void aTransportsOwnMoreDataHintIsRespected() {
        RecvByteBufAllocator.ExtendedHandle h = handle();
        read(h, 2048, 2048);
        assertThat(h.continueReading(() -> false)).isFalse();
        assertThat(h.continueReading(() -> true)).isTrue();
    }
}
