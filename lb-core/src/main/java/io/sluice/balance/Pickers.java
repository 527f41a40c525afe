package io.sluice.balance;

import io.sluice.cluster.Server;

/** Small pieces the pickers share. */
final class Pickers {
    private Pickers() {
    }

    /** The first server from {@code start} on (wrapping) that {@code ctx} has not tried, or null. */
    static Server firstUntried(Server[] servers, int start, PickContext ctx) {
        int n = servers.length;
        for (int i = 0; i < n; i++) {
            int k = start + i;
            Server s = servers[k >= n ? k - n : k];
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
}
