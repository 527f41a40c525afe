package io.sluice.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.net.LoopCounts;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Requests waiting for a connection of one server's pool on one event loop, oldest first, bounded by the
 * pool's {@code max_waiting}. Only that loop touches the queue; the total over all loops (a gauge) is kept in
 * {@link ServerPools} as waiters come and go, so every way out of the queue goes through here.
 *
 * <p>A waiter waits until its {@link BackendPool.Waiter#waitDeadline}: one timer for the queue, not one per
 * waiter. Under load most requests of an HTTP/2 client wait here (hundreds of streams over a pool's connections),
 * and a task scheduled and cancelled per request was 2-3% of the event loop (the scheduled-task heap's inserts and
 * removals). Deadlines come nearly in queue order (the same connect timeout for a cluster's requests), so the
 * timer, armed for the earliest one, rarely fires while the queue moves: when it does it expires every waiter
 * whose deadline passed and is armed again for the earliest left.
 */
final class PoolWaiters {
    private final ArrayDeque<BackendPool.Waiter> queue = new ArrayDeque<>();
    private final LoopCounts total;
    /** The {@link io.sluice.net.LoopIndex} number of {@code loop}: its slot of {@code total}. */
    private final int loopIndex;
    private final EventExecutor loop;
    private ScheduledFuture<?> sweep;
    private long sweepAt;

    PoolWaiters(LoopCounts total, int loopIndex, EventExecutor loop) {
        this.total = total;
        this.loopIndex = loopIndex;
        this.loop = loop;
    }

    /** Queues {@code w} last unless {@code max} already wait; false then (the request is refused). */
    boolean offer(BackendPool.Waiter w, int max) {
        if (queue.size() >= max) {
            return false;
        }
        queue.addLast(w);
        total.increment(loopIndex);
        armFor(w.waitDeadline());
        return true;
    }

    /** Puts back first a waiter that was taken out but could not be served after all; not limited. */
    void putBack(BackendPool.Waiter w) {
        queue.addFirst(w);
        total.increment(loopIndex);
        armFor(w.waitDeadline());
    }

    /** The timer fires no later than {@code deadline} ({@link System#nanoTime}), or never for none. */
    private void armFor(long deadline) {
        if (deadline == BackendPool.Waiter.NO_DEADLINE || (sweep != null && deadline - sweepAt >= 0)) {
            return;
        }
        if (sweep != null) {
            sweep.cancel(false);
        }
        sweepAt = deadline;
        sweep = loop.schedule(this::expire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Takes out every waiter whose deadline passed, then tells them (which may queue requests here again). */
    private void expire() {
        sweep = null;
        long now = System.nanoTime();
        List<BackendPool.Waiter> expired = null;
        long next = BackendPool.Waiter.NO_DEADLINE;
        for (Iterator<BackendPool.Waiter> it = queue.iterator(); it.hasNext(); ) {
            BackendPool.Waiter w = it.next();
            long d = w.waitDeadline();
            if (d == BackendPool.Waiter.NO_DEADLINE) {
                continue;
            }
            if (d - now <= 0) {
                it.remove();
                total.decrement(loopIndex);
                if (expired == null) {
                    expired = new ArrayList<>();
                }
                expired.add(w);
            } else if (next == BackendPool.Waiter.NO_DEADLINE || d - next < 0) {
                next = d;
            }
        }
        armFor(next);
        if (expired != null) {
            for (BackendPool.Waiter w : expired) {
                w.waitExpired();
            }
        }
    }

    BackendPool.Waiter poll() {
        BackendPool.Waiter w = queue.poll();
        if (w != null) {
            total.decrement(loopIndex);
        }
        return w;
    }

    void remove(BackendPool.Waiter w) {
        if (queue.remove(w)) {
            total.decrement(loopIndex);
        }
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }
}
