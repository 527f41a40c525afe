package io.sluice.balance;

import java.util.List;

/** Small pieces the pickers share. */
final class Pickers {
    private Pickers() {
    }

    /**
     * The endpoints as an array of their own type, without a reflective array per element type. {@code E}
     * erases to {@link Endpoint}, so inside generic code the {@code Endpoint[]} passes for an {@code E[]}; code
     * that names E concretely would fail its cast on it, so such arrays stay inside pickers and tables (tests
     * that look into a table see it as {@code Endpoint[]}).
     */
    @SuppressWarnings("unchecked")
    static <E extends Endpoint> E[] array(List<E> endpoints) {
        return (E[]) endpoints.toArray(new Endpoint[0]);
    }

    /** An empty table of the endpoints' type; see {@link #array(List)} for why the cast holds. */
    @SuppressWarnings("unchecked")
    static <E extends Endpoint> E[] newArray(int n) {
        return (E[]) new Endpoint[n];
    }

    /** The first endpoint from {@code start} on (wrapping) that {@code ctx} has not tried, or null. */
    static <E extends Endpoint> E firstUntried(E[] servers, int start, PickContext ctx) {
        int n = servers.length;
        for (int i = 0; i < n; i++) {
            int k = start + i;
            E s = servers[k >= n ? k - n : k];
            if (!ctx.tried(s)) {
                return s;
            }
        }
        return null;
    }

    /**
     * 1/weight per server: load-aware pickers compare {@code (load + 1) / weight}, so a multiply on the hot
     * path instead of a divide. The +1 makes weight count among idle servers too (with load/weight every idle
     * server would tie at 0 whatever its weight), as Envoy's least_request does.
     */
    static double[] inverse(double[] weights) {
        double[] inv = new double[weights.length];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = 1.0 / weights[i];
        }
        return inv;
    }

    /** Decides between two candidates: true when {@code b} is the better choice. */
    @FunctionalInterface
    interface Comparison {
        boolean prefer(Endpoint b, double invWeightB, Endpoint a, double invWeightA);
    }

    /**
     * The power-of-two-choices draw both load-aware random pickers share: two distinct servers from one
     * random long, compared by {@code comparison}; retries fall back to the first untried server.
     */
    static <E extends Endpoint> Picker<E> twoChoices(E[] servers, double[] inv, Rng rng, Comparison comparison) {
        int n = servers.length;
        if (n == 1) {
            E only = servers[0];
            return ctx -> ctx.tried(only) ? null : only;
        }
        return ctx -> {
            long bits = rng.nextLong();
            int i = Rng.reduce(bits, n);
            int j = Rng.reduce(bits >>> 32, n - 1);
            if (j >= i) {
                j++;
            }
            E a = servers[i];
            E b = servers[j];
            boolean aOk = !ctx.tried(a);
            boolean bOk = !ctx.tried(b);
            if (aOk && bOk) {
                return comparison.prefer(b, inv[j], a, inv[i]) ? b : a;
            }
            if (aOk) {
                return a;
            }
            if (bOk) {
                return b;
            }
            return firstUntried(servers, i, ctx);
        };
    }
}
