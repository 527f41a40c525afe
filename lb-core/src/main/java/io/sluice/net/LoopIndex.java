package io.sluice.net;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Numbers the worker event loops 0..n-1, so that per-loop state (a server's connection pools) can live in a
 * plain array owned by its object. A {@code FastThreadLocal} per pool would do the same job, but Netty never
 * reclaims a thread-local's slot: every server added and removed by a reload would grow every loop's map for
 * good. One process-wide thread-local holds the number instead.
 */
public final class LoopIndex {
    private static final FastThreadLocal<Integer> INDEX = new FastThreadLocal<>();

    private final int size;

    private LoopIndex(int size) {
        this.size = size;
    }

    /** Numbers every loop of {@code group}; blocks the (non event-loop) caller until each loop knows its number. */
    public static LoopIndex assign(EventLoopGroup group) {
        List<io.netty.util.concurrent.Future<?>> done = new ArrayList<>();
        int i = 0;
        for (EventExecutor loop : group) {
            int n = i++;
            done.add(loop.submit(() -> INDEX.set(n)));
        }
        for (io.netty.util.concurrent.Future<?> f : done) {
            if (!f.awaitUninterruptibly(10, TimeUnit.SECONDS) || !f.isSuccess()) {
                throw new IllegalStateException("event loop did not take its index", f.cause());
            }
        }
        return new LoopIndex(i);
    }

    /** An index of {@code size} slots whose loops are numbered elsewhere: for pools built outside a Sluice. */
    public static LoopIndex ofSize(int size) {
        return new LoopIndex(size);
    }

    /** How many loops there are: the length of a per-loop array. */
    public int size() {
        return size;
    }

    /** The calling event loop's number; only valid on a loop of the group this index was assigned to. */
    public static int current() {
        Integer n = INDEX.getIfExists();
        if (n == null) {
            throw new IllegalStateException("not on a numbered event loop: " + Thread.currentThread().getName());
        }
        return n;
    }
}
