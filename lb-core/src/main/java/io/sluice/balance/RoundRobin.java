package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Plain round robin: each eligible server in turn, weights ignored. */
public final class RoundRobin implements LoadBalancer {
    // Shared across pickers so that a rebuild does not send the next pick back to the first server.
    private final AtomicInteger next = new AtomicInteger();

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> servers) {
        E[] array = Pickers.array(servers);
        return ctx -> Pickers.firstUntried(array, Math.floorMod(next.getAndIncrement(), array.length), ctx);
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "round_robin";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new RoundRobin();
        }
    }
}
