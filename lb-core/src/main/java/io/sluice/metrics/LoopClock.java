package io.sluice.metrics;

import io.micrometer.core.instrument.Clock;
import io.sluice.net.LoopTime;

/**
 * The registry's clock, read from the event loop's pass time ({@link LoopTime}). Micrometer's Prometheus timer
 * reads the wall clock twice on every record, for time windows: the {@code _max} gauge's ring (rotated every
 * 40 s by default) and the bucket histogram's (which never rotates: Prometheus histograms are cumulative). Two
 * timers per HTTP request made that four {@code clock_gettime} calls per request. Those windows only compare
 * the clock's readings with each other, so here wall time is the start's wall time plus the monotonic time
 * since, taken from the loop's pass on an event loop (off the loops, from the clock); the windows move up to
 * one loop pass late, and nothing in the exposition carries these times.
 */
final class LoopClock implements Clock {
    private final long startMillis = System.currentTimeMillis();
    private final long startNanos = System.nanoTime();

    @Override
    public long wallTime() {
        return startMillis + (LoopTime.nanoTime() - startNanos) / 1_000_000;
    }

    @Override
    public long monotonicTime() {
        return System.nanoTime();
    }
}
