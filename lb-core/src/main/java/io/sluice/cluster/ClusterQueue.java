package io.sluice.cluster;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Where connections and requests wait while every eligible server of a cluster is at its
 * {@code max_connections} ({@code clusters[].queue}, HAProxy's backend queue with {@code timeout queue}).
 *
 * <p>Slots are counted per server with a compare-and-set ({@link #take}), so a limit holds exactly across event
 * loops. The queue itself is a FIFO under this object's lock, touched only when a pick found every eligible
 * server full, or when a slot is given back while someone waits ({@link #length()} is read without the lock).
 * A freed slot goes to the first waiter that can use its server: any waiter, unless a sticky cookie pinned it
 * to another server, which it then waits for. The waiter hears of it on its own event loop
 * ({@link Waiter#granted}), never on the thread that freed the slot.
 *
 * <p>No wakeup is lost: a waiter is added under the lock and then looks for a free slot itself; a slot is
 * counted free before its releaser looks at the queue length. One of the two sees the other.
 */
public final class ClusterQueue {
    private final Cluster cluster;
    /** Guarded by {@code this}. */
    private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
    private volatile int length;
    private final LongAdder timeouts = new LongAdder();
    private final LongAdder rejected = new LongAdder();

    ClusterQueue(Cluster cluster) {
        this.cluster = cluster;
    }

    /**
     * Connection or request that waits for a slot. Built and queued on its own event loop; both callbacks run
     * there, and at most one of them runs, once.
     */
    public abstract static class Waiter {
        private final EventExecutor loop;
        /** The server a sticky cookie chose, or null for any. Guarded by the queue's lock. */
        private Server pinned;
        private ScheduledFuture<?> timer;

        protected Waiter(EventExecutor loop, Server pinned) {
            this.loop = loop;
            this.pinned = pinned;
        }

        /** The slot is this waiter's now; it must close it when its work ends (or at once if it left). */
        protected abstract void granted(Slot slot);

        /** Waited for the queue's timeout without a slot; no longer queued. */
        protected abstract void timedOut();
    }

    /** A slot on {@code server}, or null when it is at its {@code max_connections}. */
    public Slot take(Server server) {
        return server.occupy() ? new Slot(server, this) : null;
    }

    /**
     * Queues {@code w}, on its loop, for the cluster's {@code queue.timeout}. False when the queue already holds
     * {@code queue.max} (counted as rejected): the caller refuses the work at once.
     */
    public boolean enqueue(Waiter w) {
        if (!w.loop.inEventLoop()) {
            throw new IllegalStateException("a waiter is queued from its own event loop");
        }
        synchronized (this) {
            if (waiting.size() >= cluster.config().queue().max()) {
                rejected.increment();
                return false;
            }
            waiting.addLast(w);
            length = waiting.size();
            if (w.pinned != null) {
                w.pinned.queued++;
            }
        }
        w.timer = w.loop.schedule(() -> expire(w), cluster.config().queue().timeout().toNanos(),
                TimeUnit.NANOSECONDS);
        dispatch();
        return true;
    }

    /** {@code w} stopped waiting (its client left); on its loop. A slot already on its way is given back there. */
    public void cancel(Waiter w) {
        if (remove(w) && w.timer != null) {
            w.timer.cancel(false);
        }
    }

    private void expire(Waiter w) {
        if (remove(w)) {
            timeouts.increment();
            w.timedOut();
        }
    }

    private synchronized boolean remove(Waiter w) {
        if (!waiting.remove(w)) {
            return false; // granted (its slot is on the way to its loop), timed out or cancelled before
        }
        dequeued(w);
        return true;
    }

    /** Under the lock: the counts follow a waiter that left the queue. */
    private void dequeued(Waiter w) {
        length = waiting.size();
        if (w.pinned != null) {
            w.pinned.queued--;
        }
    }

    /** A slot on {@code server} was given back: to the first waiter that can use it, else to the server. */
    void released(Server server) {
        if (length == 0) {
            server.vacate();
            if (length != 0) {
                dispatch(); // someone queued between the two reads, and may not have seen the free slot
            }
            return;
        }
        Waiter w = null;
        synchronized (this) {
            // A reload may have lowered the limit below what is in use: then the slot is not passed on.
            boolean passOn = server.roomAfterRelease();
            boolean anyone = passOn && eligible(server);
            for (Iterator<Waiter> it = waiting.iterator(); passOn && it.hasNext(); ) {
                Waiter c = it.next();
                unpinIfGone(c);
                if (c.pinned == server || (c.pinned == null && anyone)) {
                    it.remove();
                    dequeued(c);
                    w = c;
                    break;
                }
            }
            if (w == null) {
                server.vacate();
            }
        }
        if (w != null) {
            grant(w, new Slot(server, this)); // the server's count carries over to the waiter
        }
    }

    /**
     * Gives free slots to waiters, oldest first: after a waiter joined, and when servers or limits changed
     * (a rebuild, a reload). Cheap when nobody waits.
     */
    public void dispatch() {
        if (length == 0) {
            return;
        }
        List<Server> eligible = cluster.eligible();
        boolean anyFree = true;
        synchronized (this) {
            for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
                Waiter w = it.next();
                unpinIfGone(w);
                Server got = null;
                if (w.pinned != null) {
                    got = w.pinned.occupy() ? w.pinned : null;
                } else if (anyFree) {
                    got = firstFree(eligible);
                    anyFree = got != null; // the rest of the unpinned would find none either
                }
                if (got != null) {
                    it.remove();
                    dequeued(w);
                    grant(w, new Slot(got, this));
                }
            }
        }
    }

    private static Server firstFree(List<Server> eligible) {
        for (Server s : eligible) {
            if (s.resolved() != null && !s.full() && s.occupy()) {
                return s;
            }
        }
        return null;
    }

    /** A pinned waiter whose server can no longer take its session (down, disabled) may go anywhere. */
    private void unpinIfGone(Waiter w) {
        if (w.pinned != null && cluster.stickyServer(w.pinned.stickyId()) != w.pinned) {
            w.pinned.queued--;
            w.pinned = null;
        }
    }

    private boolean eligible(Server server) {
        return server.resolved() != null && cluster.eligible().contains(server);
    }

    private static void grant(Waiter w, Slot slot) {
        try {
            w.loop.execute(() -> {
                if (w.timer != null) {
                    w.timer.cancel(false);
                }
                w.granted(slot);
            });
        } catch (RejectedExecutionException e) {
            slot.close(); // the loop is shutting down: its client is going with it
        }
    }

    /** Waiting now: connections and requests, pinned or not. */
    public int length() {
        return length;
    }

    /** Waiters that timed out (answered 503 or closed). */
    public long timeouts() {
        return timeouts.sum();
    }

    /** Work refused at once because {@code queue.max} were already waiting. */
    public long rejected() {
        return rejected.sum();
    }
}
