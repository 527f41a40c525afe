package io.sluice.http;

import io.netty.util.concurrent.EventExecutor;
import io.sluice.net.ConnectionClock;

/**
 * A timeout re-armed on every request of a keep-alive connection without touching the event loop's timer
 * queue each time. Scheduling and cancelling a Netty task per request costs two heap operations on a queue
 * holding every connection's timers (it showed as 7% of the HTTP profile); here re-arming for a later deadline
 * only notes it (see {@link ConnectionClock} and its loop's {@code TimerLanes}).
 *
 * <p>Only the connection's event loop may call it.
 */
final class LazyTimeout extends ConnectionClock.Timer {
    private final Runnable onExpiry;

    /** A timer with a clock of its own. */
    LazyTimeout(EventExecutor loop, Runnable onExpiry) {
        this(new ConnectionClock(loop), onExpiry);
    }

    /** One more timer of the connection that {@code clock} times. */
    LazyTimeout(ConnectionClock clock, Runnable onExpiry) {
        super(clock);
        this.onExpiry = onExpiry;
    }

    @Override
    protected void expired() {
        onExpiry.run();
    }
}
