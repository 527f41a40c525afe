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
}
