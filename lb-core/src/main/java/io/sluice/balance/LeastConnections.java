package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;

/**
 * Weighted least connections: the server with the lowest {@code (load + 1) / weight}, where load is
 * {@link Endpoint#load()} (relayed connections for TCP, in-flight requests for HTTP), read live from the
 * server's atomics. Ties are broken uniformly at random (reservoir sampling), so idle servers share new work
 * instead of the first one in the list taking it all. A pick scans every server: O(n), no lock; for clusters
 * of hundreds of servers power_of_two_choices gives nearly the same balance in O(1).
 */
public final class LeastConnections implements LoadBalancer {
    private final SlowStart slowStart;
    private final Rng rng;

    public LeastConnections(SlowStart slowStart, Rng rng) {
        this.slowStart = slowStart;
        this.rng = rng;
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> list) {
        E[] servers = Pickers.array(list);
        double[] inv = Pickers.inverse(slowStart.weights(list));
        return ctx -> {
            E best = null;
            double bestScore = Double.MAX_VALUE;
            int ties = 0;
            for (int i = 0; i < servers.length; i++) {
                E s = servers[i];
                double score = (s.load() + 1) * inv[i];
                if (score < bestScore) {
                    if (ctx.tried(s)) {
                        continue;
                    }
                    best = s;
                    bestScore = score;
                    ties = 1;
                } else if (score == bestScore && !ctx.tried(s)) {
                    ties++;
                    if (rng.nextInt(ties) == 0) {
                        best = s;
                    }
                }
            }
            return best;
        };
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "least_connections";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new LeastConnections(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL);
        }
    }
}
