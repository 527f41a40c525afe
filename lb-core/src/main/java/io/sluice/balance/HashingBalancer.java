package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import io.sluice.config.HashKeyConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * What ring_hash and maglev share: the hash key, the fallback algorithm for work that carries no key, and a
 * canonical endpoint order. Endpoints are sorted by their label (the configured address) before a table is
 * built, so that two Sluice instances given the same servers in any order build identical tables and send
 * every key to the same server without talking to each other.
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

    /** A table over {@code endpoints} (canonical order) with effective {@code weights}: built off the hot path. */
    protected abstract <E extends Endpoint> Table<E> build(E[] endpoints, double[] weights);

    /** An immutable lookup structure: key hash to endpoint. */
    protected interface Table<E extends Endpoint> {
        /**
         * The endpoint for {@code hash}; on a retry, the next candidate for the same key that {@code ctx} has
         * not tried (still deterministic, so instances agree on the retry too). Null when all were tried.
         */
        E lookup(long hash, PickContext ctx);
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> list) {
        List<E> sorted = new ArrayList<>(list);
        sorted.sort(Comparator.comparing(Endpoint::label));
        Table<E> table = build(Pickers.array(sorted), slowStart.weights(sorted));
        // Both pickers are built now: a pick without a key must not build anything.
        Picker<E> fb = fallback.newPicker(list);
        HashKey k = key;
        return ctx -> {
            if (!ctx.hasHash()) {
                // source_ip is known from the connection itself: computed on the first pick and kept in the
                // context for the connection's retries.
                if (k.kind() != HashKeyConfig.Kind.SOURCE_IP || !k.applySource(ctx)) {
                    return fb.pick(ctx);
                }
            }
            return table.lookup(ctx.hash(), ctx);
        };
    }

    public HashKey hashKey() {
        return key;
    }

    /** The hash that places an endpoint: of its configured address, never of anything process-specific. */
    static long serverHash(Endpoint s, long seed) {
        return XxHash64.hash(s.label().getBytes(StandardCharsets.UTF_8), seed);
    }

    static LoadBalancer fallback(BalancerConfig config) {
        String name = config.hashFallback();
        if (LoadBalancers.isHashing(name)) {
            throw new IllegalArgumentException("hash_fallback cannot be a hashing algorithm: " + name);
        }
        return LoadBalancers.create(config.withAlgorithm(name));
    }
}
