package io.sluice.cluster;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One unit of load on a server (a relayed connection, a request in flight, a pooled connection), taken from
 * {@link Server#beginConnection()}, {@link Server#beginRequest()} or {@link Server#beginPooledConnection()}
 * and given back by {@link #close()}. Close undoes the count exactly once: a second close does nothing, so a
 * path that may end twice (an error and a close future, say) cannot drive the count below the truth, and a
 * lost close shows as a count that never returns to zero (tests check that after every run).
 */
public final class Lease implements AutoCloseable {
    private static final AtomicIntegerFieldUpdater<Lease> CLOSED =
            AtomicIntegerFieldUpdater.newUpdater(Lease.class, "closed");

    private final Server server;
    private final AtomicInteger counter;
    private volatile int closed;

    Lease(Server server, AtomicInteger counter) {
        this.server = server;
        this.counter = counter;
        counter.incrementAndGet();
    }

    /** The server this lease loads. */
    public Server server() {
        return server;
    }

    /** True once closed. */
    public boolean closed() {
        return closed != 0;
    }

    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, 0, 1)) {
            counter.decrementAndGet();
        }
    }
}
