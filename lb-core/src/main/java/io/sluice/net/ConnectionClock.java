package io.sluice.net;

import io.netty.util.concurrent.EventExecutor;

/**
 * The timers of one connection (idle, send, and HTTP's head and response waits), kept in their event loop's
 * {@link TimerLanes} rather than as Netty tasks: arming one is an append to a list, or only a note of the new
 * deadline when the timer already waits for an earlier one, and closing the connection unlinks them. A connection
 * that lives for one request touches Netty's timer queue not at all; a keep-alive connection that re-arms its
 * timers on every request to a later deadline costs one placement per expiry, not one per request.
 *
 * <p>Only the connection's event loop may use it.
 */
public final class ConnectionClock {
    private final EventExecutor loop;
    private Timer first;
    private TimerLanes lanes;

    public ConnectionClock(EventExecutor loop) {
        this.loop = loop;
    }

    private TimerLanes lanes() {
        TimerLanes l = lanes;
        if (l == null) {
            l = lanes = TimerLanes.of(loop);
        }
        return l;
    }

    /** One timer of a connection; what it does on expiry is its subclass's. */
    public abstract static class Timer {
        private final ConnectionClock clock;
        private final Timer sibling;
        boolean armed;
        /** Whether the last arm was for a duration that repeats (a lane's), rather than for the time left. */
        boolean lasting;
        long nanos;
        long deadline;
        /** When {@link TimerLanes} looks at it: at or before {@link #deadline} while armed. */
        long placedAt;
        /** In a lane: the lane and the neighbours there. */
        TimerLanes.Lane lane;
        Timer prev;
        Timer next;
        /** The lane of the last duration armed, kept for the next arm. */
        TimerLanes.Lane home;
        /** In the heap: the index there, else -1. */
        int heapIndex = -1;

        protected Timer(ConnectionClock clock) {
            this.clock = clock;
            this.sibling = clock.first;
            clock.first = this;
        }

        /** Runs on the event loop once the armed deadline has passed; the timer is disarmed by then. */
        protected abstract void expired();

        /**
         * Expires {@code nanos} from now unless disarmed or armed again first; {@code nanos <= 0} disarms. For the
         * durations the config fixes: each one has a lane of its loop's (see {@link TimerLanes}).
         */
        public final void arm(long nanos) {
            arm(nanos, true);
        }

        /** As {@link #arm}, for the time left of a longer wait: a duration that seldom repeats. */
        public final void armLeft(long nanos) {
            arm(nanos, false);
        }

        private void arm(long nanos, boolean lasting) {
            if (nanos <= 0) {
                armed = false;
                return;
            }
            armed = true;
            this.lasting = lasting;
            this.nanos = nanos;
            deadline = LoopTime.nanoTime() + nanos; // this pass's time: a request arms several timers
            if (placed()) {
                if (deadline - placedAt >= 0) {
                    return; // looked at before its deadline, it is placed again then
                }
                clock.lanes().remove(this);
            }
            clock.lanes().place(this);
        }

        private boolean placed() {
            return lane != null || heapIndex >= 0;
        }

        /** Stops it expiring; it keeps its place (a reference to the connection) until that comes due or {@link #close}. */
        public final void disarm() {
            armed = false;
        }

        public final boolean armed() {
            return armed;
        }

        /** Disarms it and gives up its place: a closed connection is not kept reachable by its timers. */
        public final void close() {
            armed = false;
            if (placed()) {
                clock.lanes().remove(this);
            }
        }
    }

    /** The connection is closed: none of its timers expires any more (until armed again). */
    public void close() {
        for (Timer t = first; t != null; t = t.sibling) {
            t.close();
        }
    }
}
