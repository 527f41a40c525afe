package io.sluice.net;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The timers of one connection (idle, send, and HTTP's head and response waits) in the event loop's timing wheel
 * ({@link LoopWheel}) once at most. A connection that lives for one request used to schedule and cancel a Netty
 * task per timer, four on an HTTP/1.1 connection, each two heap operations on a queue that holds every
 * connection's timers; then one task per connection; now no task at all. Arming here only writes a deadline: the
 * clock moves in the wheel only when the new deadline is earlier than the one it waits for, and when its tick
 * comes it expires the timers that are due and waits again for the earliest deadline still armed. A keep-alive
 * connection that re-arms its timers on every request to a later deadline touches the wheel once per expiry,
 * not once per request. Timers fire up to {@link LoopWheel#TICK} after their deadline, never before.
 *
 * <p>Only the connection's event loop may use it (a call from another thread works, on a task of its own).
 */
public final class ConnectionClock implements Runnable {
    private final EventExecutor loop;
    private Timer first;
    /** Off the loop's thread (never on the proxy path) the clock schedules a task of its own instead of the wheel. */
    private ScheduledFuture<?> task;
    /** The loop's wheel while this clock is in it, else null. */
    private LoopWheel wheel;
    private long taskAt;
    // The wheel's links, for LoopWheel alone.
    long wheelTick;
    ConnectionClock wheelNext;
    ConnectionClock wheelPrev;

    public ConnectionClock(EventExecutor loop) {
        this.loop = loop;
    }

    /** One timer of a connection; what it does on expiry is its subclass's. */
    public abstract static class Timer {
        private final ConnectionClock clock;
        private final Timer next;
        private boolean armed;
        private long deadline;

        protected Timer(ConnectionClock clock) {
            this.clock = clock;
            this.next = clock.first;
            clock.first = this;
        }

        /** Runs on the event loop once the armed deadline has passed; the timer is disarmed by then. */
        protected abstract void expired();

        /** Expires {@code nanos} from now unless disarmed or armed again first; {@code nanos <= 0} disarms. */
        public final void arm(long nanos) {
            if (nanos <= 0) {
                armed = false;
                return;
            }
            armed = true;
            deadline = LoopTime.nanoTime() + nanos; // this pass's time: a request arms several timers
            clock.due(deadline);
        }

        public final void disarm() {
            armed = false;
        }

        public final boolean armed() {
            return armed;
        }

        /**
         * Disarms, and takes the clock's task out of the queue when no timer of the connection is armed any
         * more: a pending task would keep a closed connection reachable until it runs.
         */
        public final void close() {
            armed = false;
            clock.cancelIfUnused();
        }
    }

    private void due(long deadline) {
        if ((task == null && wheel == null) || deadline - taskAt < 0) {
            cancel();
            taskAt = deadline;
            LoopWheel w = LoopWheel.of(loop);
            if (w != null) {
                wheel = w;
                w.add(this, deadline);
            } else {
                task = loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        }
    }

    /** The wheel took this clock out at its tick. */
    void fromWheel() {
        wheel = null;
        expire();
    }

    /** The clock's task. */
    @Override
    public void run() {
        task = null;
        expire();
    }

    /** Expires what is due, then waits for the earliest deadline still armed. */
    private void expire() {
        long now = System.nanoTime();
        for (Timer t = first; t != null; t = t.next) {
            if (t.armed && t.deadline - now <= 0) {
                t.armed = false;
                t.expired();
            }
        }
        Timer earliest = null;
        for (Timer t = first; t != null; t = t.next) {
            if (t.armed && (earliest == null || t.deadline - earliest.deadline < 0)) {
                earliest = t;
            }
        }
        if (earliest != null) {
            due(earliest.deadline); // a timer armed by an expiry may have scheduled the task already
        }
    }

    private void cancelIfUnused() {
        for (Timer t = first; t != null; t = t.next) {
            if (t.armed) {
                return;
            }
        }
        cancel();
    }

    /** The connection is closed: no timer of it expires any more (until armed again). */
    public void close() {
        for (Timer t = first; t != null; t = t.next) {
            t.armed = false;
        }
        cancel();
    }

    private void cancel() {
        if (wheel != null) {
            wheel.remove(this);
            wheel = null;
        }
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
