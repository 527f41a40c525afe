package io.sluice.net;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.concurrent.ThreadFactory;

/**
 * {@link System#nanoTime()} read at most once per pass of an event loop, for the timestamps and timer deadlines
 * of the request path. One keep-alive HTTP/1.1 request read the clock 16 times (the idle timeout's stamp on its
 * read and its write, three timers armed (the head wait twice, the response timer), the exchange's start and end,
 * the request sent and its response head, the balancer's latency, the pool's idle stamp, the retry budget's second,
 * and four for Micrometer's time windows), each a vDSO {@code clock_gettime}: together 0.7-1.6% of the event
 * loop's samples. Here the first read of a pass is kept and
 * handed to every later one in the same pass: two reads per such request, one per read event.
 *
 * <p>A pass is one read of a connection ({@link BatchedReads} starts one at each), else one IO processing run
 * (after its wait: {@link LoopGuard} starts a pass with it). So a time is never older than the work done since the
 * read, or since the loop woke up: tens of microseconds normally, a few milliseconds in a long batch. In the task
 * run between two IO runs every call reads the clock: one run may take long (a drain's task per connection, a
 * burst of expiring timers, hand-offs from other loops), and a timer armed from its first task's time would fire
 * early by all of it. Timers armed from it may fire that much early;
 * timeouts are seconds and their resolution is their task's tick anyway, and latencies are recorded in histograms
 * whose first bucket is a millisecond. Code that decides whether a deadline has passed (a timer's own task) reads
 * the clock itself. Off an event loop thread of {@link #threadFactory} (tests, the admin thread) every call reads
 * the clock.
 */
public final class LoopTime {
    private LoopTime() {
    }

    /** {@link System#nanoTime()} as of this event loop pass (a fresh read off the loops). */
    public static long nanoTime() {
        return Thread.currentThread() instanceof LoopThread loop ? loop.passTime() : System.nanoTime();
    }

    /**
     * The calling loop begins a new pass (a read): its next {@link #nanoTime} reads the clock, and an end of the
     * read loop asked for during the pass before ({@link BatchedReads#endBatch}) is forgotten.
     */
    static void newPass() {
        if (Thread.currentThread() instanceof LoopThread loop) {
            loop.fresh = false;
            loop.endReads = false;
        }
    }

    /** The calling loop begins an IO run: a pass, kept until a read begins another. */
    static void ioRunBegins() {
        if (Thread.currentThread() instanceof LoopThread loop) {
            loop.fresh = false;
            loop.inTasks = false;
        }
    }

    /** The calling loop's IO run ended: its tasks follow, each call reads the clock until the next IO run. */
    static void ioRunEnded() {
        if (Thread.currentThread() instanceof LoopThread loop) {
            loop.fresh = false;
            loop.inTasks = true;
        }
    }

    /** Netty's daemon thread factory (fast thread locals), making threads that keep their pass's time. */
    static ThreadFactory threadFactory(String prefix) {
        return new DefaultThreadFactory(prefix, true) {
            @Override
            protected Thread newThread(Runnable r, String name) {
                return new LoopThread(threadGroup, r, name);
            }
        };
    }

    /** An event loop's thread, with the time of the loop's current pass. Only its own thread touches the fields. */
    static final class LoopThread extends FastThreadLocalThread {
        private boolean fresh;
        private boolean inTasks;
        /** {@link BatchedReads#endBatch} was asked for during this pass's read. */
        boolean endReads;
        private long time;

        LoopThread(ThreadGroup group, Runnable r, String name) {
            super(group, r, name);
        }

        long passTime() {
            if (inTasks) {
                return System.nanoTime();
            }
            if (!fresh) {
                time = System.nanoTime();
                fresh = true;
            }
            return time;
        }
    }
}
