package io.sluice.net;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.concurrent.TimeUnit;

/**
 * The connection clocks of one event loop on a timing wheel (Varghese and Lauck's hashed wheel, as in Netty's
 * {@code HashedWheelTimer} and Kafka's purgatory), turned by one task of the loop. A clock goes into the slot of its
 * deadline's tick and comes out again in constant time, where scheduling it as a task of its own costs a heap
 * insertion and a heap removal in the loop's queue of every scheduled task: a connection that lives for one request
 * arms and closes its clock once each, and those two heap operations were a tenth of the user time left per
 * new HTTP connection on the raw front. Deadlines round up to the next {@link #TICK}: connection timeouts are
 * counted in seconds.
 *
 * <p>A slot holds the clocks of every tick that maps to it; one whose tick is a later turn of the wheel stays for
 * that turn. The task runs at the next tick whose slot holds a clock, and not at all while the wheel is empty.
 * Only the loop's own thread touches its wheel.
 */
final class LoopWheel implements Runnable {
    static final long TICK = TimeUnit.MILLISECONDS.toNanos(10);
    private static final int SLOTS = 512;
    private static final int MASK = SLOTS - 1;

    private static final FastThreadLocal<LoopWheel> WHEELS = new FastThreadLocal<>() {
        @Override
        protected LoopWheel initialValue() {
            return new LoopWheel(ThreadExecutorMap.currentExecutor());
        }
    };

    private final EventExecutor loop;
    private final ConnectionClock[] slots = new ConnectionClock[SLOTS];
    /** Every tick up to this one has been handled; a clock added now goes to a later one. */
    private long done;
    private int size;
    private ScheduledFuture<?> task;
    private long taskTick;

    private LoopWheel(EventExecutor loop) {
        this.loop = loop;
        this.done = tickOf(System.nanoTime());
    }

    /** The wheel of {@code loop}, when called on its thread; else null (the caller schedules a task of its own). */
    static LoopWheel of(EventExecutor loop) {
        if (!loop.inEventLoop()) {
            return null;
        }
        LoopWheel w = WHEELS.get();
        return w.loop == loop ? w : null;
    }

    private static long tickOf(long nanos) {
        return Math.floorDiv(nanos, TICK);
    }

    /** Puts {@code c}, not in the wheel, in the slot of {@code deadline} (a {@code System.nanoTime()} value). */
    void add(ConnectionClock c, long deadline) {
        long tick = Math.max(Math.floorDiv(deadline - 1, TICK) + 1, done + 1);
        c.wheelTick = tick;
        link(c, (int) (tick & MASK));
        size++;
        if (task == null || tick < taskTick) {
            schedule(tick);
        }
    }

    /** Takes {@code c} out; its slot may then be empty, and the task finds nothing there. */
    void remove(ConnectionClock c) {
        if (c.wheelPrev != null) {
            c.wheelPrev.wheelNext = c.wheelNext;
        } else {
            slots[(int) (c.wheelTick & MASK)] = c.wheelNext;
        }
        if (c.wheelNext != null) {
            c.wheelNext.wheelPrev = c.wheelPrev;
        }
        c.wheelNext = null;
        c.wheelPrev = null;
        size--;
    }

    private void link(ConnectionClock c, int slot) {
        ConnectionClock head = slots[slot];
        c.wheelPrev = null;
        c.wheelNext = head;
        if (head != null) {
            head.wheelPrev = c;
        }
        slots[slot] = c;
    }

    private void schedule(long tick) {
        if (task != null) {
            task.cancel(false);
        }
        taskTick = tick;
        task = loop.schedule(this, Math.max(0, tick * TICK - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Takes out the clocks whose tick has come, then runs them: one may put itself back, for a later tick. */
    @Override
    public void run() {
        task = null;
        long now = tickOf(System.nanoTime());
        long from = Math.max(done + 1, now - SLOTS + 1); // late by a whole turn or more: each slot once
        ConnectionClock due = null;
        for (long t = from; t <= now; t++) {
            int slot = (int) (t & MASK);
            ConnectionClock c = slots[slot];
            slots[slot] = null;
            while (c != null) {
                ConnectionClock next = c.wheelNext;
                if (c.wheelTick <= now) {
                    size--;
                    c.wheelPrev = null;
                    c.wheelNext = due;
                    due = c;
                } else {
                    link(c, slot); // a later turn's
                }
                c = next;
            }
        }
        done = Math.max(done, now);
        while (due != null) {
            ConnectionClock c = due;
            due = c.wheelNext;
            c.wheelNext = null;
            c.fromWheel();
        }
        if (size > 0 && task == null) {
            schedule(nextTick());
        }
    }

    /** The first tick after {@link #done} whose slot holds a clock (of that turn or a later one). */
    private long nextTick() {
        for (long t = done + 1; t <= done + SLOTS; t++) {
            if (slots[(int) (t & MASK)] != null) {
                return t;
            }
        }
        return done + SLOTS; // not reached while size > 0
    }

    /** Clocks in the wheel: for tests. */
    int size() {
        return size;
    }
}
