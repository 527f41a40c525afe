package io.sluice.balance;

import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import java.util.List;

/**
 * Power of two choices (Mitzenmacher): two distinct servers drawn at random, the one with the lower
 * {@code (load + 1) / weight} wins. O(1) per pick at any cluster size, and it avoids the herd effect of a
 * global least-loaded choice when several Sluice threads or instances pick at once from slightly stale loads.
 */
public final class PowerOfTwoChoices implements LoadBalancer {
    private final SlowStart slowStart;
    private final Rng rng;

    public PowerOfTwoChoices(SlowStart slowStart, Rng rng) {
        this.slowStart = slowStart;
        this.rng = rng;
    }

    @Override
    public Picker newPicker(List<Server> list) {
        Server[] servers = list.toArray(new Server[0]);
        double[] inv = Pickers.inverse(slowStart.weights(list));
        int n = servers.length;
        if (n == 1) {
            Server only = servers[0];
            return ctx -> ctx.tried(only) ? null : only;
        }
        return ctx -> {
            long bits = rng.nextLong();
            int i = Rng.reduce(bits, n);
            int j = Rng.reduce(bits >>> 32, n - 1);
            if (j >= i) {
                j++;
            }
            Server a = servers[i];
            Server b = servers[j];
            boolean aOk = !ctx.tried(a);
            boolean bOk = !ctx.tried(b);
            if (aOk && bOk) {
                return (b.load() + 1) * inv[j] < (a.load() + 1) * inv[i] ? b : a;
            }
            if (aOk) {
                return a;
            }
            if (bOk) {
                return b;
            }
            return Pickers.firstUntried(servers, i, ctx);
        };
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "power_of_two_choices";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new PowerOfTwoChoices(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL);
        }
    }
}
