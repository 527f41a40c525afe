package io.sluice.l4;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one listener, bumped by the connection path and read by metrics. */
public final class ListenerStats {
    final AtomicInteger active = new AtomicInteger();
    final LongAdder total = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder noServer = new LongAdder();

    /** Counts an accepted connection; returns how many are open now, this one included. */
    public int opened() {
        total.increment();
        return active.incrementAndGet();
    }

    public void closed() {
        active.decrementAndGet();
    }

    public void countRejected() {
        rejected.increment();
    }

    public void countNoServer() {
        noServer.increment();
    }

    public int active() {
        return active.get();
    }

    public long total() {
        return total.sum();
    }

    /** Connections closed at once because max_connections was reached. */
    public long rejected() {
        return rejected.sum();
    }

    /** Connections closed because no server could be reached (none available, or every attempt failed). */
    public long noServer() {
        return noServer.sum();
    }
}
