package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.sluice.cluster.Server;
import io.sluice.config.UpstreamProtocol;
import io.sluice.net.LoopCounts;
import io.sluice.net.LoopIndex;
import io.sluice.net.Transport;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * The per-event-loop connection pools of one server. Each loop owns its slot of the array outright, so a
 * connection is only ever used on the loop that opened it and no pool needs a lock; the array goes away with
 * the server (see {@link LoopIndex} for why not a thread-local).
 */
public final class ServerPools {
    private final Upstream upstream;
    private final Server server;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    /** Written by each loop for its own slot, read by the control thread when the server is retired. */
    private final AtomicReferenceArray<LoopPool> perLoop;
    /**
     * The pools of single client connections ({@link #privatePool}), so that retiring the server retires them
     * too; each leaves when its client connection closes, so many clients leave nothing behind.
     */
    private final Set<LoopPool> privatePools = ConcurrentHashMap.newKeySet();
    private volatile boolean retired;
    /**
     * For the idle/in-use gauges: each pool counts in its loop's slot ({@link LoopCounts}: no locked instruction
     * per request), a scrape sums them.
     */
    final LoopCounts idle;
    final LoopCounts inUse;
    /** Requests waiting for a connection, over every loop ({@link PoolWaiters}). */
    final LoopCounts waiting;

    ServerPools(Upstream upstream, Server server, Transport transport, ByteBufAllocator allocator, LoopIndex loops) {
        this.perLoop = new AtomicReferenceArray<>(loops.size());
        this.idle = new LoopCounts(loops.size());
        this.inUse = new LoopCounts(loops.size());
        this.waiting = new LoopCounts(loops.size());
        this.upstream = upstream;
        this.server = server;
        this.transport = transport;
        this.allocator = allocator;
    }

    /**
     * Must be called on {@code loop}. The pool speaks the cluster's protocol of now: after a reload changed it,
     * the old pool retires (its busy connections finish) and a new one takes its place.
     */
    LoopPool forLoop(EventLoop loop) {
        int i = LoopIndex.current();
        LoopPool p = perLoop.get(i);
        UpstreamProtocol protocol = upstream.cluster().config().protocol();
        if (p == null || p.protocol() != protocol) {
            if (p != null) {
                p.retire();
            }
            p = newPool(loop, protocol);
            perLoop.set(i, p);
            // Written before the flag is read, as retire() sets the flag before it reads the slots: one of the
            // two sees the other, so a pool made while the server is being retired is retired too.
            if (retired) {
                p.retire();
            }
        }
        return p;
    }

    private LoopPool newPool(EventLoop loop, UpstreamProtocol protocol) {
        return protocol.http2()
                ? new Http2Pool(this, upstream, server, loop, transport, allocator, protocol)
                : new BackendPool(this, upstream, server, loop, transport, allocator);
    }

    /**
     * A pool for one client connection, outside the per-loop slots: its connections open with {@code header}.
     * Counted in the totals like the others. Must be called on {@code loop}.
     */
    LoopPool privatePool(EventLoop loop, ProxyHeaderFor header) {
        LoopPool p = newPool(loop, upstream.cluster().config().protocol());
        p.sendProxyHeader(header);
        privatePools.add(p);
        header.client().closeFuture().addListener(f -> privatePools.remove(p));
        // Added before the flag is read, as retire() sets it before it walks the set: as for the slots above.
        if (retired) {
            p.retire();
        }
        return p;
    }

    /**
     * The server left its cluster: idle connections close now, busy ones when their exchange ends. Runs each
     * pool's part on its own loop.
     */
    void retire() {
        retired = true;
        onEachPool(LoopPool::retire);
    }

    /** A reload changed the cluster's {@code pool} settings: each pool, private ones too, hears it on its loop. */
    void poolSettingsChanged() {
        onEachPool(LoopPool::poolSettingsChanged);
    }

    /** Runs {@code step} for each pool, the per-loop ones and the private ones, on the pool's own loop. */
    private void onEachPool(Consumer<LoopPool> step) {
        for (int i = 0; i < perLoop.length(); i++) {
            LoopPool p = perLoop.get(i);
            if (p != null) {
                p.loop().execute(() -> step.accept(p));
            }
        }
        for (LoopPool p : privatePools) {
            p.loop().execute(() -> step.accept(p));
        }
    }

    /** The pool of the loop with this {@link LoopIndex} index, null before its first use. For tests. */
    LoopPool loopPool(int index) {
        return perLoop.get(index);
    }

    public int idle() {
        return (int) idle.sum();
    }

    public int inUse() {
        return (int) inUse.sum();
    }

    public int waiting() {
        return (int) waiting.sum();
    }
}
