package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;

/**
 * Weighted random, with Vose's alias method: the table is built once per server-set change so that a pick is
 * two random draws and two array reads, O(1) whatever the number of servers or the spread of weights.
 */
public final class WeightedRandom implements LoadBalancer {
    private final SlowStart slowStart;
    private final Rng rng;

    public WeightedRandom(SlowStart slowStart, Rng rng) {
        this.slowStart = slowStart;
        this.rng = rng;
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> list) {
        E[] servers = Pickers.array(list);
        double[] w = slowStart.weights(list);
        int n = servers.length;
        double[] prob = new double[n];
        int[] alias = new int[n];
        buildAlias(w, prob, alias);
        return ctx -> {
            // A few draws cover the usual retry (one server tried); after that a scan is simpler than
            // rebuilding a table without the failed servers.
            for (int k = 0; k < 4; k++) {
                // One draw serves both the column and the coin: its integer part and its fraction.
                double u = rng.nextDouble() * n;
                int i = (int) u;
                if (i >= n) {
                    i = n - 1;
                }
                if (u - i >= prob[i]) {
                    i = alias[i];
                }
                E s = servers[i];
                if (!ctx.tried(s)) {
                    return s;
                }
            }
            return Pickers.firstUntried(servers, rng.nextInt(n), ctx);
        };
    }

    /** Vose's alias method: column i keeps probability prob[i] for itself, the rest goes to alias[i]. */
    static void buildAlias(double[] weights, double[] prob, int[] alias) {
        int n = weights.length;
        double sum = 0;
        for (double w : weights) {
            sum += w;
        }
        double[] scaled = new double[n];
        int[] small = new int[n];
        int[] large = new int[n];
        int ns = 0;
        int nl = 0;
        for (int i = 0; i < n; i++) {
            scaled[i] = weights[i] * n / sum;
            if (scaled[i] < 1.0) {
                small[ns++] = i;
            } else {
                large[nl++] = i;
            }
        }
        while (ns > 0 && nl > 0) {
            int s = small[--ns];
            int l = large[--nl];
            prob[s] = scaled[s];
            alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            if (scaled[l] < 1.0) {
                small[ns++] = l;
            } else {
                large[nl++] = l;
            }
        }
        // Leftovers are 1 up to rounding error.
        while (nl > 0) {
            int l = large[--nl];
            prob[l] = 1.0;
            alias[l] = l;
        }
        while (ns > 0) {
            int s = small[--ns];
            prob[s] = 1.0;
            alias[s] = s;
        }
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "random";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new WeightedRandom(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL);
        }
    }
}
