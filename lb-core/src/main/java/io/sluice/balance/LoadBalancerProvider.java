package io.sluice.balance;

import io.sluice.config.BalancerConfig;

/**
 * Makes {@link LoadBalancer}s for one {@code algorithm:} name. Third-party jars add algorithms by listing an
 * implementation in {@code META-INF/services/io.sluice.balance.LoadBalancerProvider}.
 */
public interface LoadBalancerProvider {

    /** The YAML name, e.g. {@code round_robin}. */
    String name();

    LoadBalancer create(BalancerConfig config);

    /**
     * True for algorithms that place work by {@code hash_key}: the cluster then computes the key's hash for
     * each connection or request, and the config refuses the algorithm as a {@code hash_fallback}.
     */
    default boolean hashing() {
        return false;
    }
}
