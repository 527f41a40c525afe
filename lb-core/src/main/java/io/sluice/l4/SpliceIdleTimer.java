package io.sluice.l4;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The idle timeout of one {@link SpliceRelay}. Netty's idle handler cannot do it: the channels see no reads or
 * writes once their sockets are spliced. Traffic only records the time ({@link #touch}); one timer, re-armed
 * for the time left when it fires, decides, so busy connections cost no timer work per wake-up.
 */
final class SpliceIdleTimer implements Runnable {
    private final SpliceRelay relay;
    private final EventLoop loop;
    private final long idleNanos;
    private long lastActivity;
    private ScheduledFuture<?> check;

    SpliceIdleTimer(SpliceRelay relay, EventLoop loop, long idleNanos) {
        this.relay = relay;
        this.loop = loop;
        this.idleNanos = idleNanos;
    }

    void start() {
        lastActivity = System.nanoTime();
        schedule(idleNanos);
    }

    void touch() {
        lastActivity = System.nanoTime();
    }

    void cancel() {
        if (check != null) {
            check.cancel(false);
        }
    }

    /** The timer fired: close, or wait for the rest of the timeout counted from the last traffic. */
    @Override
    public void run() {
        if (relay.isClosed()) {
            return;
        }
        long left = idleNanos - (System.nanoTime() - lastActivity);
        if (left > 0) {
            schedule(left);
        } else {
            relay.close("idle");
        }
    }

    private void schedule(long nanos) {
        // The timer itself is the task: re-arming allocates no closure.
        check = loop.schedule(this, nanos, TimeUnit.NANOSECONDS);
    }
}
