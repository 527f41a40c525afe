package io.sluice.balance;

import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Peak-EWMA, as Finagle and Linkerd balance: the cost of a server is its peak-EWMA latency
 * ({@link Server#latency()}, decayed over {@code ewma_decay}) times {@code (outstanding + 1)}, divided by its
 * weight; two servers are drawn at random and the cheaper wins (power of two choices, as both do). A server
 * with no latency sample yet costs nothing while idle, then Finagle's large penalty while it has work in
 * flight, so a new server gets a probe's worth of traffic until its first response measures it.
 */
public final class LeastResponseTime implements LoadBalancer {
    /** Finagle's penalty for a server with work outstanding and no latency measured yet. */
    static final double PENALTY = Long.MAX_VALUE >> 16;

    private final SlowStart slowStart;
    private final Rng rng;
    private final LongSupplier clock;

    public LeastResponseTime(SlowStart slowStart, Rng rng, LongSupplier clock) {
        this.slowStart = slowStart;
        this.rng = rng;
        this.clock = clock;
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
                long now = clock.getAsLong();
                return cost(b, now) * inv[j] < cost(a, now) * inv[i] ? b : a;
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

    static double cost(Server s, long now) {
        double latency = s.latency().cost(now);
        int outstanding = s.load();
        if (latency == 0 && outstanding != 0) {
            return PENALTY + outstanding;
        }
        return latency * (outstanding + 1);
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "least_response_time";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new LeastResponseTime(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL, System::nanoTime);
        }
    }
}
