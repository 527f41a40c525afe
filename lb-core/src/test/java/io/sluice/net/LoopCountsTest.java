package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class LoopCountsTest {

    @Test
    void eachLoopCountsInItsOwnSlotAndTheSumIsTheTotal() throws Exception {
        int loops = 4;
        LoopCounts counts = new LoopCounts(loops);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int loop = 0; loop < loops; loop++) {
            int slot = loop;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                // Up and down as a pool's connections come and go; each loop ends with slot+1 more than it began.
                for (int i = 0; i < 200_000; i++) {
                    counts.increment(slot);
                    counts.decrement(slot);
                }
                counts.add(slot, slot + 1);
            });
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        // Nothing lost although no store is atomic: each slot has one writer. Slots that overlapped would lose
        // some of the 1.6 million racing changes.
        assertThat(counts.sum()).isEqualTo(1 + 2 + 3 + 4);
    }
}
