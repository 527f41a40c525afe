package io.sluice.cluster;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One unit of a server's {@code max_connections}: a relayed connection or an HTTP request holds it from the
 * pick to its end. Taken through {@link ClusterQueue#take(Server)} or handed over by the queue; given back by
 * {@link #close()} exactly once (further closes do nothing), from any thread. Giving it back may pass it
 * straight on to the first waiter that can use its server, so a freed slot never goes to a newcomer ahead of
 * those already waiting.
 */
public final class Slot implements AutoCloseable {
    private static final AtomicIntegerFieldUpdater<Slot> CLOSED =
            AtomicIntegerFieldUpdater.newUpdater(Slot.class, "closed");

    private final Server server;
    private final ClusterQueue queue;
    private volatile int closed;

    /** The server's count already includes this slot. */
    Slot(Server server, ClusterQueue queue) {
        this.server = server;
        this.queue = queue;
    }

    public Server server() {
        return server;
    }

    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, 0, 1)) {
            queue.released(server);
        }
    }
}
