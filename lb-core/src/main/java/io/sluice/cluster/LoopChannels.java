package io.sluice.cluster;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
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
    /**
     * A connection that is not a Netty channel (the io_uring TCP relay's): added and removed on its loop by
     * itself, closed by {@link #abort()} there, which may finish later (once the kernel has given back what it
     * holds); {@link #closed} must follow then.
     */
    public interface Member {
        EventLoop loop();

        void abort();
    }

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
        final Set<Object> channels = new HashSet<>();
        /** How many of {@link #channels} are {@link Member}s, and who waits for the last to close (or null). */
        int members;
        Promise<Void> membersGone;
        /** The set's size for other threads' {@link #count}: written by the loop alone, through {@link #SIZE}. */
        private int size;

        LoopSet(EventLoop loop) {
            this.loop = loop;
        }

        boolean add(Object ch) {
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

        Object[] snapshot() {
            return channels.toArray();
        }

        boolean addMember(Member m) {
            boolean added = add(m);
            if (added) {
                members++;
            }
            return added;
        }

        void removeMember(Member m) {
            if (channels.remove(m)) {
                SIZE.setRelease(this, channels.size());
                if (--members == 0 && membersGone != null) {
                    membersGone.setSuccess(null);
                    membersGone = null;
                }
            }
        }

        /** Completes once every member now open has closed. */
        Future<Void> membersGone() {
            if (members == 0) {
                return loop.newSucceededFuture(null);
            }
            if (membersGone == null) {
                membersGone = loop.newPromise();
            }
            return membersGone;
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

    /** Adds {@code m} until {@link #closed}; on its loop. */
    public void add(Member m) {
        setOf(m.loop()).addMember(m);
    }

    /** {@code m} has closed: on its loop. */
    public void closed(Member m) {
        setOf(m.loop()).removeMember(m);
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
        forEach(action, null, timeout, unit);
    }

    /** {@link #forEach(Consumer, long, TimeUnit)}, and {@code members} (null: nothing) on every open member. */
    public void forEach(Consumer<Channel> action, Consumer<Member> members, long timeout, TimeUnit unit) {
        List<Future<?>> done = new ArrayList<>();
        for (LoopSet s : loops) {
            try {
                done.add(s.loop.submit(() -> {
                    for (Object o : s.snapshot()) {
                        if (o instanceof Channel ch) {
                            action.accept(ch);
                        } else if (members != null) {
                            members.accept((Member) o);
                        }
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
        List<Future<List<Future<?>>>> closing = new ArrayList<>();
        for (LoopSet s : loops) {
            try {
                closing.add(s.loop.submit(() -> {
                    Object[] all = s.snapshot();
                    List<Future<?>> closed = new ArrayList<>(all.length);
                    for (Object o : all) {
                        if (o instanceof Channel ch) {
                            if (first != null) {
                                first.accept(ch);
                            }
                            closed.add(ch.close());
                        } else {
                            ((Member) o).abort();
                        }
                    }
                    closed.add(s.membersGone());
                    return closed;
                }));
            } catch (RejectedExecutionException e) {
                // As above.
            }
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        boolean all = true;
        for (Future<List<Future<?>>> f : closing) {
            if (!f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                    || !f.isSuccess()) {
                all = false;
                continue;
            }
            for (Future<?> c : f.getNow()) {
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
                    for (Object o : s.snapshot()) {
                        if (o instanceof Channel ch) {
                            ch.close();
                        } else {
                            ((Member) o).abort();
                        }
                    }
                });
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: its channels close with it.
            }
        }
    }

    /** Per loop that has had one, its open channels and members as last written: for tests. */
    public List<Integer> countsByLoop() {
        List<Integer> out = new ArrayList<>();
        for (LoopSet s : loops) {
            out.add(s.lastSize());
        }
        return out;
    }

    /** The open channels as the loops last wrote their counts, without waiting for them: for log lines and tests. */
    /** How many open members (connections that are not channels) there are, on every loop: for tests. */
    public int memberCount() {
        int n = 0;
        for (LoopSet s : loops) {
            n += s.members;
        }
        return n;
    }

    public int count() {
        int n = 0;
        for (LoopSet s : loops) {
            n += s.lastSize();
        }
        return n;
    }
}
