package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link LoopBuffers}: on a loop's thread a small buffer comes back for reuse only once every holder released it,
 * one still held is never handed out again, a large one or one off the loops is a buffer of its own, and the ring's
 * buffers are released when the thread ends (paranoid leak detection would report one that is not).
 */
class LoopBuffersTest {
    @Test
    void aBufferIsLentAgainOnlyOnceItsHoldersReleasedIt() throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = LoopTime.threadFactory("loop-buffers-test").newThread(() -> {
            try {
                PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
                ByteBuf first = LoopBuffers.take(alloc, 100);
                first.writeBytes(new byte[100]);
                ByteBuf held = LoopBuffers.take(alloc, 100);
                assertThat(held).isNotSameAs(first);
                first.release(); // the writer is done with it
                List<ByteBuf> taken = new ArrayList<>();
                boolean again = false;
                for (int i = 0; i < 200; i++) {
                    ByteBuf b = LoopBuffers.take(alloc, 10);
                    assertThat(b.readableBytes()).isZero();
                    assertThat(b.writableBytes()).isGreaterThanOrEqualTo(10);
                    assertThat(b).isNotSameAs(held);
                    again |= b == first;
                    taken.add(b);
                    b.release();
                }
                assertThat(again).as("a released buffer is lent again").isTrue();
                ByteBuf large = LoopBuffers.take(alloc, LoopBuffers.SIZE + 1);
                assertThat(large.maxCapacity()).isEqualTo(LoopBuffers.SIZE + 1);
                large.release();
                held.release();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        });
        t.start();
        done.get(10, TimeUnit.SECONDS);
        t.join(10_000);
        ByteBuf off = LoopBuffers.take(PooledByteBufAllocator.DEFAULT, 10);
        assertThat(off.maxCapacity()).as("off the loops: a buffer of its own").isEqualTo(10);
        off.release();
    }
}
