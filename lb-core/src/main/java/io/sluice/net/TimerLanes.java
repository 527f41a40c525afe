package io.sluice.net;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * The armed {@link ConnectionClock.Timer}s of one event loop, waited for by one task in Netty's timer queue. That
 * queue is a binary heap of every connection's task: a connection that lived for one request scheduled a task when
 * it opened and cancelled it when it closed, two heap operations and a task object per connection (2.3% of the
 * samples of {@code http_close}, 1.1% of {@code tcp_connect}).
 *
 * <p>Nearly every timer is armed for one of a few durations fixed by the config (a listener's idle timeout and
 * header wait, a route's response timeout, a cluster's connect timeout), and the deadlines one loop arms for one
 * duration come in the order of its clock. So each such duration has a lane, a list in deadline order where
 * arming appends and a close unlinks, both without a search. A timer whose deadline would not go at its lane's
 * end (armed for the time left of a longer wait, or for a duration that has no lane while {@link #LANES} others
 * hold timers) goes in a binary heap of its own.
 *
 * <p>Each timer has a place in a lane or the heap, at the time it is to be looked at; arming it again for a later
 * deadline only notes the deadline (a keep-alive connection re-arms its timers on every request), and when its
 * place comes due it is placed again for what is left. A disarmed timer keeps its place until then, or until its
 * connection closes it. Only the loop's thread uses its lanes.
 */
final class TimerLanes implements Runnable {
    /** Distinct durations with a lane: a config names a handful. */
    static final int LANES = 16;

    private static final FastThreadLocal<TimerLanes> CURRENT = new FastThreadLocal<>();

    private final EventExecutor loop;
    private final Lane[] lanes = new Lane[LANES];
    private int laneCount;
    private ConnectionClock.Timer[] heap = new ConnectionClock.Timer[16];
    private int heapSize;
    private ScheduledFuture<?> task;
    private long taskAt;
    private boolean running;

    private TimerLanes(EventExecutor loop) {
        this.loop = loop;
    }

    /**
     * {@code loop}'s lanes; on its thread. One thread may run several loops one after the other (Netty's
     * {@code EmbeddedEventLoop}s in tests): each new one gets lanes of its own, and a clock keeps the lanes it got.
     */
    static TimerLanes of(EventExecutor loop) {
        TimerLanes lanes = CURRENT.get();
        if (lanes == null || lanes.loop != loop) {
            if (!loop.inEventLoop()) {
                throw new IllegalStateException("a connection's timers are armed on its event loop only");
            }
            lanes = new TimerLanes(loop);
            CURRENT.set(lanes);
        }
        return lanes;
    }

    /** The timers armed for one duration, in the order of their places. */
    static final class Lane {
        long nanos;
        ConnectionClock.Timer head;
        ConnectionClock.Timer tail;
    }

    /** Gives {@code t} (armed, not placed) a place at its deadline. */
    void place(ConnectionClock.Timer t) {
        t.placedAt = t.deadline;
        Lane lane = t.lasting ? laneFor(t) : null;
        if (lane != null && (lane.tail == null || lane.tail.placedAt - t.placedAt <= 0)) {
            append(lane, t);
        } else {
            heapAdd(t);
        }
        if (!running && (task == null || t.placedAt - taskAt < 0)) {
            wakeAt(t.placedAt);
        }
    }

    /** Takes {@code t} out of its place. */
    void remove(ConnectionClock.Timer t) {
        if (t.lane != null) {
            unlink(t);
        } else if (t.heapIndex >= 0) {
            heapRemove(t.heapIndex);
        }
    }

    private Lane laneFor(ConnectionClock.Timer t) {
        Lane home = t.home;
        if (home != null && home.nanos == t.nanos) {
            return home;
        }
        Lane free = null;
        for (int i = 0; i < laneCount; i++) {
            Lane l = lanes[i];
            if (l.nanos == t.nanos) {
                return t.home = l;
            }
            if (free == null && l.head == null) {
                free = l;
            }
        }
        if (free == null && laneCount < LANES) {
            free = lanes[laneCount++] = new Lane();
        }
        if (free != null) {
            free.nanos = t.nanos; // an empty lane serves another duration from now on
            t.home = free;
        }
        return free;
    }

    private static void append(Lane lane, ConnectionClock.Timer t) {
        t.lane = lane;
        t.prev = lane.tail;
        t.next = null;
        if (lane.tail == null) {
            lane.head = t;
        } else {
            lane.tail.next = t;
        }
        lane.tail = t;
    }

    private static void unlink(ConnectionClock.Timer t) {
        Lane lane = t.lane;
        if (t.prev == null) {
            lane.head = t.next;
        } else {
            t.prev.next = t.next;
        }
        if (t.next == null) {
            lane.tail = t.prev;
        } else {
            t.next.prev = t.prev;
        }
        t.lane = null;
        t.prev = null;
        t.next = null;
    }

    private void wakeAt(long at) {
        if (task != null) {
            task.cancel(false);
        }
        taskAt = at;
        task = loop.schedule(this, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** The lanes' task: looks at the places that came due, then waits for the next. */
    @Override
    public void run() {
        task = null;
        running = true;
        long now = System.nanoTime();
        try {
            ConnectionClock.Timer t;
            while ((t = due(now)) != null) {
                remove(t);
                if (!t.armed) {
                    continue;
                }
                if (t.deadline - now <= 0) {
                    t.armed = false;
                    t.expired();
                } else {
                    place(t); // armed again meanwhile for later: its place for what is left
                }
            }
        } finally {
            running = false;
            long next = 0;
            boolean any = false;
            for (int i = 0; i < laneCount; i++) {
                ConnectionClock.Timer h = lanes[i].head;
                if (h != null && (!any || h.placedAt - next < 0)) {
                    next = h.placedAt;
                    any = true;
                }
            }
            if (heapSize > 0 && (!any || heap[0].placedAt - next < 0)) {
                next = heap[0].placedAt;
                any = true;
            }
            if (any && (task == null || next - taskAt < 0)) {
                wakeAt(next);
            }
        }
    }

    /** A placed timer whose place is at or before {@code now}, or null. */
    private ConnectionClock.Timer due(long now) {
        for (int i = 0; i < laneCount; i++) {
            ConnectionClock.Timer h = lanes[i].head;
            if (h != null && h.placedAt - now <= 0) {
                return h;
            }
        }
        return heapSize > 0 && heap[0].placedAt - now <= 0 ? heap[0] : null;
    }

    // The heap, ordered by place; each timer knows its index in it.

    private void heapAdd(ConnectionClock.Timer t) {
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, heapSize * 2);
        }
        siftUp(heapSize++, t);
    }

    private void heapRemove(int i) {
        ConnectionClock.Timer gone = heap[i];
        gone.heapIndex = -1;
        ConnectionClock.Timer last = heap[--heapSize];
        heap[heapSize] = null;
        if (i == heapSize) {
            return;
        }
        if (i > 0 && last.placedAt - heap[(i - 1) >>> 1].placedAt < 0) {
            siftUp(i, last);
        } else {
            siftDown(i, last);
        }
    }

    private void siftUp(int i, ConnectionClock.Timer t) {
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            ConnectionClock.Timer p = heap[parent];
            if (p.placedAt - t.placedAt <= 0) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i, ConnectionClock.Timer t) {
        int half = heapSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            ConnectionClock.Timer c = heap[child];
            int right = child + 1;
            if (right < heapSize && heap[right].placedAt - c.placedAt < 0) {
                child = right;
                c = heap[child];
            }
            if (t.placedAt - c.placedAt <= 0) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    /** For tests: how many timers have a place in a lane, and in the heap. */
    int[] counts() {
        int inLanes = 0;
        for (int i = 0; i < laneCount; i++) {
            for (ConnectionClock.Timer t = lanes[i].head; t != null; t = t.next) {
                inLanes++;
            }
        }
        return new int[] {inLanes, heapSize};
    }

    /** For tests: the calling thread's lanes, or null when it has none. */
    static TimerLanes ofThisThread() {
        return CURRENT.getIfExists();
    }
}
