package io.sluice.l4;

import io.netty.channel.EventLoop;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The pipes of the raw relay ({@link UringConnection} splices streams) and of the raw HTTP front (it splices large
 * response bodies): one {@link PipePool} per event loop, shared by
 * every listener on it, its idle pipes closed once the loop has ended. A loop's own thread is the only one that
 * takes or gives back its pipes.
 */
public final class RelayPipes {
    private static final ConcurrentMap<EventLoop, PipePool> POOLS = new ConcurrentHashMap<>();

    private RelayPipes() {
    }

    /** {@code loop}'s pool; on that loop. */
    public static PipePool of(EventLoop loop) {
        PipePool pool = POOLS.get(loop);
        if (pool == null) {
            PipePool made = new PipePool();
            pool = made;
            POOLS.put(loop, made);
            loop.terminationFuture().addListener(f -> {
                POOLS.remove(loop);
                made.closeIdle();
            });
        }
        return pool;
    }

    /** Pipes the loops' pools opened, for tests. */
    static long created() {
        return POOLS.values().stream().mapToLong(PipePool::created).sum();
    }
}
