package io.sluice.config;

import java.time.Duration;

/**
 * Balancing settings of a cluster. Only the fields the chosen algorithm reads matter.
 *
 * @param hashKey      for ring_hash and maglev: what to hash
 * @param hashFallback algorithm used when a request carries no hash key
 * @param virtualNodes ring_hash points per unit of weight
 * @param tableSize    maglev lookup table size (a prime)
 * @param ewmaDecay    least_response_time: how fast old latency samples fade
 * @param slowStart    a server that (re)joins ramps to full weight over this window; ZERO = off
 */
public record BalancerConfig(String algorithm, HashKeyConfig hashKey, String hashFallback, int virtualNodes,
                             int tableSize, Duration ewmaDecay, Duration slowStart) {

    public static final String DEFAULT_ALGORITHM = "round_robin";
    public static final HashKeyConfig DEFAULT_HASH_KEY = HashKeyConfig.SOURCE_IP;
    public static final String DEFAULT_HASH_FALLBACK = "round_robin";
    public static final int DEFAULT_VIRTUAL_NODES = 100;
    public static final int DEFAULT_TABLE_SIZE = 65537;
    public static final Duration DEFAULT_EWMA_DECAY = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SLOW_START = Duration.ZERO;

    /** {@code algorithm} with every other setting at its default. */
    public static BalancerConfig of(String algorithm) {
        return new BalancerConfig(algorithm, DEFAULT_HASH_KEY, DEFAULT_HASH_FALLBACK, DEFAULT_VIRTUAL_NODES,
                DEFAULT_TABLE_SIZE, DEFAULT_EWMA_DECAY, DEFAULT_SLOW_START);
    }

    public BalancerConfig withAlgorithm(String name) {
        return new BalancerConfig(name, hashKey, hashFallback, virtualNodes, tableSize, ewmaDecay, slowStart);
    }

    public BalancerConfig withHashKey(HashKeyConfig key) {
        return new BalancerConfig(algorithm, key, hashFallback, virtualNodes, tableSize, ewmaDecay, slowStart);
    }

    public BalancerConfig withSlowStart(Duration window) {
        return new BalancerConfig(algorithm, hashKey, hashFallback, virtualNodes, tableSize, ewmaDecay, window);
    }
}
