package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * NGINX's smooth weighted round robin. NGINX updates every server's current weight on each pick under a lock;
 * here the whole cycle (sum of weights, reduced by their gcd) is computed once when the picker is built, so a
 * pick is one atomic increment and an array read, and the order is exactly NGINX's: weights 5,1,1 give
 * a a b a c a a, never a long run of one server.
 */
public final class SmoothWeightedRoundRobin implements LoadBalancer {
    /** Longest precomputed cycle; larger weight sums are scaled down (each weight stays at least 1). */
    static final int MAX_CYCLE = 1 << 16;

    /** Resolution of slow-start weights: a ramping server's share moves in tenths of a weight unit. */
    private static final int RAMP_SCALE = 10;

    private final AtomicInteger next = new AtomicInteger();
    private final SlowStart slowStart;

    public SmoothWeightedRoundRobin(SlowStart slowStart) {
        this.slowStart = slowStart;
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> servers) {
        E[] cycle = cycle(servers, weights(slowStart.weights(servers)));
        // Retries walk on through the cycle; bounded by its length, and only taken after a failure.
        return ctx -> Pickers.firstUntried(cycle, Math.floorMod(next.getAndIncrement(), cycle.length), ctx);
    }

    /** Integer weights for the cycle, reduced by their gcd, so a cluster with no ramp keeps its exact weights. */
    static int[] weights(double[] effective) {
        boolean whole = true;
        for (double e : effective) {
            whole &= e == Math.rint(e);
        }
        int unit = whole ? 1 : RAMP_SCALE;
        int[] w = new int[effective.length];
        long sum = 0;
        int g = 0;
        for (int i = 0; i < w.length; i++) {
            w[i] = (int) Math.max(1, Math.round(effective[i] * unit));
            g = gcd(g, w[i]);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] /= g;
            sum += w[i];
        }
        if (sum > MAX_CYCLE) {
            double scale = (double) MAX_CYCLE / sum;
            for (int i = 0; i < w.length; i++) {
                w[i] = Math.max(1, (int) Math.round(w[i] * scale));
            }
        }
        return w;
    }

    /** The NGINX algorithm run once over a full cycle. */
    static <E extends Endpoint> E[] cycle(List<E> servers, int[] weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        E[] out = Pickers.newArray(total);
        long[] current = new long[weights.length];
        for (int k = 0; k < total; k++) {
            int best = -1;
            for (int i = 0; i < weights.length; i++) {
                current[i] += weights[i];
                if (best < 0 || current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= total;
            out[k] = servers.get(best);
        }
        return out;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "weighted_round_robin";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new SmoothWeightedRoundRobin(SlowStart.of(config.slowStart()));
        }
    }
}
