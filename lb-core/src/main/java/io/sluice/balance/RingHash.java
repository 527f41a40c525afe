package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Ketama-style consistent hashing: each server owns {@code virtual_nodes × weight} points on a 64-bit ring,
 * and a key goes to the first point at or after its hash. Removing a server moves only the keys of its own
 * points; adding weight only adds points, so a slow-start ramp moves keys only toward the ramping server.
 * A pick is a bucket lookup and a short binary search over a sorted {@code long[]}.
 */
public final class RingHash extends HashingBalancer {
    /** Bound on points, so that extreme weights × virtual nodes cannot exhaust memory; weights scale down. */
    static final int MAX_POINTS = 1 << 22;
    /** The low bits of each point carry the owner's index, so a primitive sort keeps points and owners paired. */
    private static final int INDEX_BITS = 24;
    private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;

    private final int virtualNodes;

    public RingHash(HashKey key, LoadBalancer fallback, SlowStart slowStart, int virtualNodes) {
        super(key, fallback, slowStart);
        this.virtualNodes = virtualNodes;
    }

    @Override
    protected <E extends Endpoint> Table<E> build(E[] servers, double[] weights) {
        if (servers.length > INDEX_MASK) {
            throw new IllegalArgumentException("too many servers for ring_hash: " + servers.length);
        }
        double total = 0;
        for (double w : weights) {
            total += w * virtualNodes;
        }
        double scale = total > MAX_POINTS ? MAX_POINTS / total : 1.0;
        int[] counts = new int[servers.length];
        int size = 0;
        for (int i = 0; i < servers.length; i++) {
            counts[i] = Math.max(1, (int) Math.round(weights[i] * virtualNodes * scale));
            size += counts[i];
        }
        long[] packed = new long[size];
        int p = 0;
        for (int i = 0; i < servers.length; i++) {
            byte[] label = servers[i].label().getBytes(StandardCharsets.UTF_8);
            for (int r = 0; r < counts[i]; r++) {
                // Point r of a server is the same whatever its weight: more weight only adds points.
                packed[p++] = (XxHash64.hash(label, r) & ~INDEX_MASK) | i;
            }
        }
        Arrays.sort(packed);
        long[] points = new long[size];
        E[] owners = Pickers.newArray(size);
        for (int k = 0; k < size; k++) {
            points[k] = packed[k] & ~INDEX_MASK;
            owners[k] = servers[(int) (packed[k] & INDEX_MASK)];
        }
        return new Ring<>(points, owners);
    }

    /**
     * The sorted ring plus a bucket index on the top bits of the hash: a lookup binary-searches only the few
     * points of one bucket (one or two cache lines) instead of the whole ring, which at 1000 servers is over
     * half a million points and misses the cache at every step.
     */
    static final class Ring<E extends Endpoint> implements Table<E> {
        private static final int MAX_BUCKET_BITS = 16;

        final long[] points;
        final E[] owners;
        private final int shift;
        private final int signFlip;
        /** index[b] = first point in bucket b or later; index[buckets] = points.length. */
        private final int[] index;

        Ring(long[] points, E[] owners) {
            this.points = points;
            this.owners = owners;
            int bits = Math.max(1, Math.min(MAX_BUCKET_BITS, 32 - Integer.numberOfLeadingZeros(points.length)));
            this.shift = 64 - bits;
            // Points are sorted as signed longs: flipping the bucket's top bit keeps bucket order the same.
            this.signFlip = 1 << (bits - 1);
            int buckets = 1 << bits;
            this.index = new int[buckets + 1];
            int p = 0;
            for (int b = 0; b < buckets; b++) {
                while (p < points.length && bucket(points[p]) < b) {
                    p++;
                }
                index[b] = p;
            }
            index[buckets] = points.length;
        }

        private int bucket(long hash) {
            return (int) (hash >>> shift) ^ signFlip;
        }

        @Override
        public E lookup(long hash, PickContext ctx) {
            long key = hash & ~INDEX_MASK;
            int b = bucket(key);
            int from = index[b];
            int to = index[b + 1];
            int i = from == to ? to : Arrays.binarySearch(points, from, to, key);
            if (i < 0) {
                i = -i - 1;
            }
            int n = points.length;
            if (i == n) {
                i = 0;
            }
            if (ctx.attempt() == 0 && !ctx.tried(owners[i])) {
                return owners[i];
            }
            // Retry: walk on clockwise to the next server not yet tried, as Envoy's ring does.
            return Pickers.firstUntried(owners, i, ctx);
        }
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "ring_hash";
        }

        @Override
        public boolean hashing() {
            return true;
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new RingHash(HashKey.of(config.hashKey()), fallback(config), SlowStart.of(config.slowStart()),
                    config.virtualNodes());
        }
    }
}
