package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import io.sluice.cluster.Server;
import io.sluice.net.Transport;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-event-loop connection pools of one server. Each loop owns its pool outright (a thread-local), so a
 * connection is only ever used on the loop that opened it and no pool needs a lock.
 */
public final class ServerPools {
    private final Upstream upstream;
    private final Server server;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private final FastThreadLocal<BackendPool> perLoop = new FastThreadLocal<>();
    /** Totals over every loop, for the idle/in-use gauges. */
    final AtomicInteger idle = new AtomicInteger();
    final AtomicInteger inUse = new AtomicInteger();

    ServerPools(Upstream upstream, Server server, Transport transport, ByteBufAllocator allocator) {
        this.upstream = upstream;
        this.server = server;
        this.transport = transport;
        this.allocator = allocator;
    }

    /** Must be called on {@code loop}. */
    BackendPool forLoop(EventLoop loop) {
        BackendPool p = perLoop.getIfExists();
        if (p == null) {
            p = new BackendPool(this, upstream, server, loop, transport, allocator);
            perLoop.set(p);
        }
        return p;
    }

    public int idle() {
        return idle.get();
    }

    public int inUse() {
        return inUse.get();
    }
}
