package io.sluice.balance;

import io.sluice.config.BalancerConfig;

/**
 * Google's Maglev hashing (NSDI 2016) with Envoy's weighting: every server walks its own permutation of a
 * lookup table of prime size ({@code maglev_table_size}, default 65537) and claims free slots in turn, a
 * server of weight w taking a turn in w of every max-weight rounds. Shares come out within a few slots of exact,
 * and removing a server disturbs few keys beyond its own. A pick is one multiply and one array read.
 */
public final class Maglev extends HashingBalancer {
    private final int tableSize;

    public Maglev(HashKey key, LoadBalancer fallback, SlowStart slowStart, int tableSize) {
        super(key, fallback, slowStart);
        this.tableSize = tableSize;
    }

    @Override
    protected <E extends Endpoint> Table<E> build(E[] servers, double[] weights) {
        int m = tableSize;
        int n = servers.length;
        long[] offset = new long[n];
        long[] skip = new long[n];
        long[] next = new long[n];
        double[] target = new double[n];
        double max = 0;
        for (int i = 0; i < n; i++) {
            offset[i] = Long.remainderUnsigned(serverHash(servers[i], 0), m);
            skip[i] = Long.remainderUnsigned(serverHash(servers[i], 1), m - 1) + 1;
            max = Math.max(max, weights[i]);
        }
        double[] norm = new double[n];
        for (int i = 0; i < n; i++) {
            norm[i] = weights[i] / max;
        }
        E[] table = Pickers.newArray(m);
        int filled = 0;
        for (long iteration = 1; filled < m; iteration++) {
            for (int i = 0; i < n && filled < m; i++) {
                // A server of normalized weight 1/3 claims a slot every third round.
                if (iteration * norm[i] < target[i]) {
                    continue;
                }
                target[i] += 1.0;
                int c = (int) ((offset[i] + skip[i] * next[i]) % m);
                while (table[c] != null) {
                    next[i]++;
                    c = (int) ((offset[i] + skip[i] * next[i]) % m);
                }
                table[c] = servers[i];
                next[i]++;
                filled++;
            }
        }
        return new Lookup<>(table);
    }

    static final class Lookup<E extends Endpoint> implements Table<E> {
        final E[] table;

        Lookup(E[] table) {
            this.table = table;
        }

        @Override
        public E lookup(long hash, PickContext ctx) {
            int m = table.length;
            // Lemire's multiply-shift maps the hash's high 32 bits onto [0, m) without a division.
            int i = (int) (((hash >>> 32) * m) >>> 32);
            E s = table[i];
            if (ctx.attempt() == 0 && !ctx.tried(s)) {
                return s;
            }
            // Retry: the following slots hold a weight-proportional mix of servers, so walking on is a
            // deterministic, weighted second choice for this key.
            return Pickers.firstUntried(table, i, ctx);
        }
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "maglev";
        }

        @Override
        public boolean hashing() {
            return true;
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new Maglev(HashKey.of(config.hashKey()), fallback(config), SlowStart.of(config.slowStart()),
                    config.tableSize());
        }
    }
}
