package io.sluice.net;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.concurrent.TimeUnit;

/**
 * One event loop's entries that each fall due a fixed delay after they joined, in the order they joined: with one
 * delay for all, that order is the order they fall due, so joining and leaving are a few field writes (no heap, no
 * allocation: the entries are the connections' own objects) and the task looks at the due entries only. It is
 * scheduled at most once per delay while any entry waits. For per-connection waits that are usually over long
 * before they fall due (a keep-alive connection's next request, an exchange's response), where a
 * {@link ConnectionClock} timer would be placed again for nearly every request.
 *
 * <p>On its loop only: {@link PerLoop} gives each loop its own.
 */
public final class DelayLine implements Runnable {
    /** What waits in a line; what it does when due is its subclass's. */
    public abstract static class Entry {
        private Entry older;
        private Entry newer;
        private long since;
        private boolean listed;

        /** Runs on the loop once the delay has passed since the entry joined; it has left the line by then. */
        protected abstract void due();

        public final boolean listed() {
            return listed;
        }
    }

    /** The lines of one delay, one per event loop. */
    public static final class PerLoop {
        private final FastThreadLocal<DelayLine> lines;

        public PerLoop(long delayNanos) {
            this.lines = new FastThreadLocal<>() {
                @Override
                protected DelayLine initialValue() {
                    return new DelayLine(delayNanos);
                }
            };
        }

        /** The calling loop's line. */
        public DelayLine onThisLoop() {
            return lines.get();
        }
    }

    private final long delayNanos;
    private Entry oldest;
    private Entry newest;
    private EventLoop loop;
    private boolean scheduled;

    private DelayLine(long delayNanos) {
        this.delayNanos = delayNanos;
    }

    /** {@code e} joins now (from {@code on}, this line's loop); one already in the line joins again, now. */
    public void add(Entry e, EventLoop on) {
        remove(e);
        e.since = LoopTime.nanoTime();
        e.listed = true;
        e.older = newest;
        if (newest == null) {
            oldest = e;
        } else {
            newest.newer = e;
        }
        newest = e;
        if (!scheduled) {
            loop = on;
            schedule(delayNanos);
        }
    }

    /** {@code e} leaves the line; nothing if it is not in it. */
    public void remove(Entry e) {
        if (!e.listed) {
            return;
        }
        e.listed = false;
        Entry older = e.older;
        Entry newer = e.newer;
        if (older == null) {
            oldest = newer;
        } else {
            older.newer = newer;
        }
        if (newer == null) {
            newest = older;
        } else {
            newer.older = older;
        }
        e.older = null;
        e.newer = null;
    }

    private void schedule(long nanos) {
        scheduled = true;
        loop.schedule(this, nanos, TimeUnit.NANOSECONDS);
    }

    /** Runs the entries that are due, then waits for the next. */
    @Override
    public void run() {
        long now = System.nanoTime();
        while (oldest != null && now - oldest.since >= delayNanos) {
            Entry e = oldest;
            remove(e);
            e.due(); // may join again: scheduled stays true meanwhile, so that does not schedule a second task
        }
        scheduled = false;
        if (oldest != null) {
            schedule(oldest.since + delayNanos - now);
        }
    }
}
