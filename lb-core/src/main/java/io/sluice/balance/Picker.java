package io.sluice.balance;

import io.sluice.cluster.Server;

/**
 * Chooses a server for one connection or request. Built off the hot path from the list of eligible servers
 * and published whole, like gRPC's {@code SubchannelPicker}: a pick must not allocate, lock or block.
 */
@FunctionalInterface
public interface Picker {

    /** A picker for a cluster with no eligible server. */
    Picker EMPTY = ctx -> null;

    /**
     * Returns a server, or null when there is none. A picker should avoid servers that {@code ctx} says were
     * already tried ({@link PickContext#tried(Server)}); deterministic pickers (hashing) use
     * {@link PickContext#attempt()} to move on to their next candidate.
     */
    Server pick(PickContext ctx);
}
