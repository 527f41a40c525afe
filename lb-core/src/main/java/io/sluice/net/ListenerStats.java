package io.sluice.net;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one listener, read by metrics. Only {@link Admission} opens and closes connections here,
 * so the open count cannot drift; the proxy paths count what they could not place.
 */
public final class ListenerStats {
    private final AtomicInteger active = new AtomicInteger();
    private final LongAdder total = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    private final LongAdder noServer = new LongAdder();
    private final LongAdder[] limited = {new LongAdder(), new LongAdder()};

    int opened() {
        total.increment();
        return active.incrementAndGet();
    }

    void closed() {
        active.decrementAndGet();
    }

    void countRejected() {
        rejected.increment();
    }

    /** A connection or request found no server to take it (none available, or every attempt failed). */
    public void countNoServer() {
        noServer.increment();
    }

    void countLimited(ClientLimits.Limit limit) {
        limited[limit.ordinal()].increment();
    }

    /** Connections or requests refused by the listener's per-client {@code limits}. */
    public long limited(ClientLimits.Limit limit) {
        return limited[limit.ordinal()].sum();
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
