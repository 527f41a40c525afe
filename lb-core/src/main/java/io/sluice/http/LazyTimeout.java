package io.sluice.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A timeout re-armed on every request of a keep-alive connection without touching the event loop's timer
 * queue each time. Scheduling and cancelling a Netty task per request costs two heap operations on a queue
 * holding every connection's timers (it showed as 7% of the HTTP profile); here arming only writes a deadline,
 * and a task is scheduled only when the new deadline is earlier than the one already pending. A task that
 * fires early (the deadline moved on) schedules itself again for the new deadline.
 *
 * <p>Only the connection's event loop may call it.
 */
final class LazyTimeout {
    private final EventExecutor loop;
    private final Runnable onExpiry;
    private boolean armed;
    private long deadline;
    /** A task is known to be pending, to run at {@link #pendingAt} (the earliest of those pending). */
    private boolean pending;
    private long pendingAt;
    private ScheduledFuture<?> task;
    /** Numbers the scheduled tasks, so that a task knows whether it is the latest one (then none is pending). */
    private long scheduled;

    LazyTimeout(EventExecutor loop, Runnable onExpiry) {
        this.loop = loop;
        this.onExpiry = onExpiry;
    }

    /** Expires {@code nanos} from now unless disarmed or armed again first; {@code nanos <= 0} disarms. */
    void arm(long nanos) {
        if (nanos <= 0) {
            armed = false;
            return;
        }
        armed = true;
        deadline = System.nanoTime() + nanos;
        if (!pending || deadline - pendingAt < 0) {
            schedule(nanos);
        }
    }

    void disarm() {
        armed = false;
    }

    boolean armed() {
        return armed;
    }

    private void schedule(long nanos) {
        pending = true;
        pendingAt = System.nanoTime() + nanos;
        long number = ++scheduled;
        task = loop.schedule(() -> expire(number), nanos, TimeUnit.NANOSECONDS);
    }

    /** For a closed connection: a pending task would keep it reachable until it runs. */
    void close() {
        armed = false;
        pending = false;
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    private void expire(long number) {
        if (number == scheduled) {
            pending = false;
        }
        long now = System.nanoTime();
        if (!armed) {
            return;
        }
        long left = deadline - now;
        if (left <= 0) {
            armed = false;
            onExpiry.run();
        } else if (!pending || deadline - pendingAt < 0) {
            schedule(left);
        }
    }
}
