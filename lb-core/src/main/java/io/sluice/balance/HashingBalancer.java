package io.sluice.balance;

import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What ring_hash and maglev share: the hash key, the fallback algorithm for work that carries no key, and a
 * canonical server order. Servers are sorted by their configured address before a table is built, so that
 * two Sluice instances given the same servers in any order build identical tables and send every key to the
 * same server without talking to each other.
 */
public abstract class HashingBalancer implements LoadBalancer {
    private final HashKey key;
    private final LoadBalancer fallback;
    private final SlowStart slowStart;

    protected HashingBalancer(HashKey key, LoadBalancer fallback, SlowStart slowStart) {
        this.key = key;
        this.fallback = fallback;
        this.slowStart = slowStart;
    }

    /** A table over {@code servers} (canonical order) with effective {@code weights}: built off the hot path. */
    protected abstract Table build(Server[] servers, double[] weights);

    /** An immutable lookup structure: key hash to server. */
    protected interface Table {
        /**
         * The server for {@code hash}; on a retry, the next candidate for the same key that {@code ctx} has not
         * tried (still deterministic, so instances agree on the retry too). Null when all were tried.
         */
        Server lookup(long hash, PickContext ctx);
    }

    @Override
    public Picker newPicker(List<Server> list) {
        List<Server> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparing(Server::label));
        Server[] servers = sorted.toArray(new Server[0]);
        Table table = build(servers, slowStart.weights(sorted));
        // Both pickers are built now: a pick without a key must not build anything.
        Picker fb = fallback.newPicker(list);
        HashKey k = key;
        return ctx -> {
            if (!ctx.hasHash()) {
                // source_ip is known from the connection itself: computed on the first pick and kept in the
                // context for the connection's retries.
                if (k.kind() != HashKey.Kind.SOURCE_IP || !k.applySource(ctx)) {
                    return fb.pick(ctx);
                }
            }
            return table.lookup(ctx.hash(), ctx);
        };
    }

    public HashKey hashKey() {
        return key;
    }

    /** The hash that places a server: of its configured address, never of anything process-specific. */
    static long serverHash(Server s, long seed) {
        return XxHash64.hash(s.label().getBytes(StandardCharsets.UTF_8), seed);
    }

    static LoadBalancer fallback(BalancerConfig config) {
        String name = config.hashFallback() == null ? "round_robin" : config.hashFallback();
        if (LoadBalancers.isHashing(name)) {
            throw new IllegalArgumentException("hash_fallback cannot be a hashing algorithm: " + name);
        }
        return LoadBalancers.create(new BalancerConfig(name, null, null, config.virtualNodes(), config.tableSize(),
                config.ewmaDecay(), config.slowStart()));
    }
}
