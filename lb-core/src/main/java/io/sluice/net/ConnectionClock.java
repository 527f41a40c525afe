package io.sluice.net;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The timers of one connection (idle, send, and HTTP's head and response waits) on one task in the event loop's
 * timer queue at most. A connection that lives for one request used to schedule and cancel a Netty task per
 * timer, four on an HTTP/1.1 connection, each two heap operations on a queue that holds every connection's
 * timers. Arming here only writes a deadline: a task is scheduled only when the new deadline is earlier than
 * the pending task (which is then cancelled), and when it runs it expires the timers that are due and
 * schedules itself again for the earliest deadline still armed. A keep-alive connection that re-arms its
 * timers on every request to a later deadline touches the queue once per expiry, not once per request.
 *
 * <p>Only the connection's event loop may use it.
 */
public final class ConnectionClock implements Runnable {
    private final EventExecutor loop;
    private Timer first;
    private ScheduledFuture<?> task;
    private long taskAt;

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
        if (task == null || deadline - taskAt < 0) {
            if (task != null) {
                task.cancel(false);
            }
            taskAt = deadline;
            task = loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /** The clock's task: expires what is due, then waits for the earliest deadline still armed. */
    @Override
    public void run() {
        task = null;
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
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
