package io.sluice.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A set of open channels: a listener's connections, for drain and shutdown, and a server's, for an admin's disable
 * and {@code close_on_down}. One plain set per event loop, touched only on that loop. Netty's
 * {@code DefaultChannelGroup} does the same job with one concurrent map that every loop writes, an insert and a
 * remove per channel (with the map's shared size counter); here a channel is added and removed on its own loop
 * without a compare-and-set, and the rare walks over all of them (drain, shutdown, closing a server's) run as a
 * task on each loop.
 *
 * <p>As with a channel group, a walk sees the channels open when it reaches their loop: one accepted after that
 * is not in it (a listener stops accepting first).
 */
public final class LoopChannels {
    /** The loops that have added a channel, each with its set; copied on write (a loop is added once). */
    private volatile LoopSet[] loops = new LoopSet[0];
    /** One for all channels: runs on the closed channel's loop. */
    private final ChannelFutureListener remover = f -> setOf(f.channel().eventLoop()).remove(f.channel());

    private static final class LoopSet {
        /** Release stores, plain on x86: a volatile store's fence per connection would buy a log line nothing. */
        private static final VarHandle SIZE;

        static {
            try {
                SIZE = MethodHandles.lookup().findVarHandle(LoopSet.class, "size", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final EventLoop loop;
        final Set<Channel> channels = new HashSet<>();
        /** The set's size for other threads' {@link #count}: written by the loop alone, through {@link #SIZE}. */
        private int size;

        LoopSet(EventLoop loop) {
            this.loop = loop;
        }

        boolean add(Channel ch) {
            boolean added = channels.add(ch);
            SIZE.setRelease(this, channels.size());
            return added;
        }

        void remove(Channel ch) {
            channels.remove(ch);
            SIZE.setRelease(this, channels.size());
        }

        int lastSize() {
            return (int) SIZE.getAcquire(this);
        }

        Channel[] snapshot() {
            return channels.toArray(new Channel[0]);
        }
    }

    /**
     * Adds {@code ch} until it closes. On {@code ch}'s loop (from elsewhere the add is handed to it). A channel
     * that is already closed, or was never registered (a socket that could not be made), is left out: there is
     * nothing to close.
     */
    public void add(Channel ch) {
        if (!ch.isOpen() || !ch.isRegistered() && !hasLoop(ch)) {
            return;
        }
        EventLoop loop = ch.eventLoop();
        if (!loop.inEventLoop()) {
            loop.execute(() -> add(ch));
            return;
        }
        if (setOf(loop).add(ch)) {
            // Runs at once, on this loop, when the channel closed meanwhile.
            ch.closeFuture().addListener(remover);
        }
    }

    /** A channel being registered has its loop before it is registered; one never registered has none. */
    private static boolean hasLoop(Channel ch) {
        try {
            ch.eventLoop();
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private LoopSet setOf(EventLoop loop) {
        for (LoopSet s : loops) {
            if (s.loop == loop) {
                return s;
            }
        }
        return newSet(loop);
    }

    private synchronized LoopSet newSet(EventLoop loop) {
        LoopSet[] now = loops;
        for (LoopSet s : now) {
            if (s.loop == loop) {
                return s;
            }
        }
        LoopSet s = new LoopSet(loop);
        LoopSet[] next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = s;
        loops = next;
        return s;
    }

    /**
     * Runs {@code action} on every open channel, on the channel's loop, and waits up to {@code timeout} for every
     * loop to be done. Not from an event loop. The action may close the channel.
     */
    public void forEach(Consumer<Channel> action, long timeout, TimeUnit unit) {
        List<Future<?>> done = new ArrayList<>();
        for (LoopSet s : loops) {
            try {
                done.add(s.loop.submit(() -> {
                    for (Channel ch : s.snapshot()) {
                        action.accept(ch);
                    }
                }));
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: its channels close with it.
            }
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Future<?> f : done) {
            f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Runs {@code first} on every open channel (null: nothing), then closes it, each on its loop, and waits up to
     * {@code timeout} until all are closed. Not from an event loop. Returns whether all closed in time.
     */
    public boolean close(Consumer<Channel> first, long timeout, TimeUnit unit) {
        List<Future<List<ChannelFuture>>> closing = new ArrayList<>();
        for (LoopSet s : loops) {
            try {
                closing.add(s.loop.submit(() -> {
                    Channel[] all = s.snapshot();
                    List<ChannelFuture> closed = new ArrayList<>(all.length);
                    for (Channel ch : all) {
                        if (first != null) {
                            first.accept(ch);
                        }
                        closed.add(ch.close());
                    }
                    return closed;
                }));
            } catch (RejectedExecutionException e) {
                // As above.
            }
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        boolean all = true;
        for (Future<List<ChannelFuture>> f : closing) {
            if (!f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                    || !f.isSuccess()) {
                all = false;
                continue;
            }
            for (ChannelFuture c : f.getNow()) {
                all &= c.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        }
        return all;
    }

    /**
     * Closes every open channel, each on its loop, without waiting: for callers that must not block (an admin
     * request, a health state change).
     */
    public void closeAll() {
        for (LoopSet s : loops) {
            try {
                s.loop.execute(() -> {
                    for (Channel ch : s.snapshot()) {
                        ch.close();
                    }
                });
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: its channels close with it.
            }
        }
    }

    /** The open channels as the loops last wrote their counts, without waiting for them: for log lines and tests. */
    public int count() {
        int n = 0;
        for (LoopSet s : loops) {
            n += s.lastSize();
        }
        return n;
    }
}
