package io.sluice.l4;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The splice side of one TCP listener: starts its {@link SpliceRelay}s and owns what they share, a
 * {@link PipePool} per event loop and the counts of relays. Held by the listener rather than in static fields,
 * so that several Sluice instances in one JVM (every test run) neither share pipes nor mix up their counts.
 */
final class Splicer {
    /** A reload may change it; relays started earlier keep theirs. */
    private volatile long idleNanos;
    /** One pool per event loop that ran a relay of this listener; only that loop's thread adds its entry. */
    private final ConcurrentMap<EventLoop, PipePool> pools = new ConcurrentHashMap<>();
    private final AtomicInteger live = new AtomicInteger();
    private final LongAdder startedWithHeldBytes = new LongAdder();

    void idleTimeout(Duration idleTimeout) {
        this.idleNanos = idleTimeout.toNanos();
    }

    /** @param idleTimeout ZERO for none */
    Splicer(Duration idleTimeout) {
        this.idleNanos = idleTimeout.toNanos();
    }

    /**
     * Takes two connected epoll channels of one event loop off Netty's epoll set and splices between them. Must
     * run on that event loop. Bytes the channels read before (see {@link HeldBytes}) go out first.
     *
     * @param sent     counts bytes from client to server
     * @param received counts bytes from server to client
     */
    void start(Channel client, HeldBytes clientHeld, Channel server, HeldBytes serverHeld, LongAdder sent,
               LongAdder received) {
        SpliceRelay.start(this, pool(client.eventLoop()), client, clientHeld, server, serverHeld, sent, received,
                idleNanos);
    }

    private PipePool pool(EventLoop loop) {
        PipePool pool = pools.get(loop);
        if (pool == null) {
            pool = new PipePool();
            pools.put(loop, pool);
            // Closed once the loop's thread has ended, as with a thread-local pool: by then every relay of the
            // loop has ended on it (SplicedSocket.close) and given its pipes back, and no thread is left to race.
            PipePool dying = pool;
            loop.terminationFuture().addListener(f -> dying.closeIdle());
        }
        return pool;
    }

    /** The listener is gone: each loop's pool closes its idle pipes, and the rest as they come back. */
    void close() {
        pools.forEach((loop, pool) -> {
            if (!loop.isShuttingDown()) {
                loop.execute(pool::retire);
            }
        });
    }

    void relayLive() {
        live.incrementAndGet();
    }

    void relayEnded() {
        live.decrementAndGet();
    }

    void relayStartedWithHeldBytes() {
        startedWithHeldBytes.increment();
    }

    /** Relays registered and not yet closed. */
    int liveRelays() {
        return live.get();
    }

    /** Relays that began with bytes epoll had read before the hand-over. */
    long relaysStartedWithHeldBytes() {
        return startedWithHeldBytes.sum();
    }

    /** Pipes opened by this listener's relays, over all event loops. */
    long pipesCreated() {
        long n = 0;
        for (PipePool p : pools.values()) {
            n += p.created();
        }
        return n;
    }
}
