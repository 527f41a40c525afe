package io.sluice.balance;

/**
 * Chooses an endpoint for one connection or request. Built off the hot path from the list of eligible
 * endpoints and published whole, like gRPC's {@code SubchannelPicker}: a pick must not allocate, lock or block.
 * Generic so that a cluster gets back its own server type without a cast on every pick.
 */
@FunctionalInterface
public interface Picker<E extends Endpoint> {

    /**
     * Returns an endpoint, or null when there is none. A picker should avoid endpoints that {@code ctx} says
     * were already tried ({@link PickContext#tried(Endpoint)}); deterministic pickers (hashing) use
     * {@link PickContext#attempt()} to move on to their next candidate.
     */
    E pick(PickContext ctx);

    /** A picker for a cluster with no eligible endpoint. */
    static <E extends Endpoint> Picker<E> empty() {
        return ctx -> null;
    }
}
