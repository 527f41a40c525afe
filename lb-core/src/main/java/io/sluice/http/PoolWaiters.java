package io.sluice.http;

import java.util.ArrayDeque;
import io.sluice.net.LoopCounts;

/**
 * Requests waiting for a connection of one server's pool on one event loop, oldest first, bounded by the
 * pool's {@code max_waiting}. Only that loop touches the queue; the total over all loops (a gauge) is kept in
 * {@link ServerPools} as waiters come and go, so every way out of the queue goes through here.
 */
final class PoolWaiters {
    private final ArrayDeque<BackendPool.Waiter> queue = new ArrayDeque<>();
    private final LoopCounts total;
    /** The {@link io.sluice.net.LoopIndex} number of the loop that owns this queue: its slot of {@code total}. */
    private final int loop;

    PoolWaiters(LoopCounts total, int loop) {
        this.total = total;
        this.loop = loop;
    }

    /** Queues {@code w} last unless {@code max} already wait; false then (the request is refused). */
    boolean offer(BackendPool.Waiter w, int max) {
        if (queue.size() >= max) {
            return false;
        }
        queue.addLast(w);
        total.increment(loop);
        return true;
    }

    /** Puts back first a waiter that was taken out but could not be served after all; not limited. */
    void putBack(BackendPool.Waiter w) {
        queue.addFirst(w);
        total.increment(loop);
    }

    BackendPool.Waiter poll() {
        BackendPool.Waiter w = queue.poll();
        if (w != null) {
            total.decrement(loop);
        }
        return w;
    }

    void remove(BackendPool.Waiter w) {
        if (queue.remove(w)) {
            total.decrement(loop);
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }
}
