package io.sluice.balance;

import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Map;

/** Sets a server's live load for a test, through the same leases the proxy paths take. */
final class Load {
    private static final Map<Server, Deque<Lease>> CONNECTIONS = new IdentityHashMap<>();
    private static final Map<Server, Deque<Lease>> REQUESTS = new IdentityHashMap<>();

    private Load() {
    }

    static synchronized void connections(Server s, int n) {
        set(CONNECTIONS.computeIfAbsent(s, k -> new ArrayDeque<>()), n, s::beginConnection);
    }

    static synchronized void requests(Server s, int n) {
        set(REQUESTS.computeIfAbsent(s, k -> new ArrayDeque<>()), n, s::beginRequest);
    }

    private static void set(Deque<Lease> held, int n, java.util.function.Supplier<Lease> begin) {
        while (held.size() < n) {
            held.push(begin.get());
        }
        while (held.size() > n) {
            held.pop().close();
        }
    }
}
