package io.sluice.balance;

import java.util.List;

/**
 * One balancing algorithm for one cluster. It turns the current list of eligible endpoints into a
 * {@link Picker}; this runs whenever that list changes (health, ejection, DNS, reload), never per pick.
 */
public interface LoadBalancer {

    /**
     * Builds an immutable picker over {@code endpoints} (never empty; the cluster handles "no server").
     * Called under the cluster's lock, so implementations may keep state between calls.
     */
    <E extends Endpoint> Picker<E> newPicker(List<E> endpoints);
}
