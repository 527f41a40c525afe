package io.sluice.config;

import java.time.Duration;

/**
 * Balancing settings of a cluster. Only the fields the chosen algorithm reads matter.
 *
 * @param hashKey      for ring_hash and maglev: source_ip, header:NAME, cookie:NAME, path or query:NAME
 * @param hashFallback algorithm used when a request carries no hash key
 * @param virtualNodes ring_hash points per unit of weight
 * @param tableSize    maglev lookup table size (a prime)
 * @param ewmaDecay    least_response_time: how fast old latency samples fade
 * @param slowStart    a server that (re)joins ramps to full weight over this window; ZERO = off
 */
public record BalancerConfig(String algorithm, String hashKey, String hashFallback, int virtualNodes,
                             int tableSize, Duration ewmaDecay, Duration slowStart) {

    public static BalancerConfig of(String algorithm) {
        return new BalancerConfig(algorithm, null, "round_robin", 100, 65537, Duration.ofSeconds(10), Duration.ZERO);
    }
}
