package io.sluice.bench;

import io.sluice.cluster.Server;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Servers with literal addresses, mixed weights 1..10, some load and a measured latency, from a seed. */
final class Fixtures {
    private Fixtures() {
    }

    static List<Server> servers(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Server> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String ip = "10." + (i / 62500) + "." + (i / 250 % 250) + "." + (i % 250 + 1);
            Server s = new Server("bench", new ServerConfig(new HostPort(ip, 8080), 1 + r.nextInt(10), false));
            for (int c = r.nextInt(20); c > 0; c--) {
                s.beginConnection(); // held for the benchmark's life: load for the load-aware pickers
            }
            s.recordLatency(1_000_000 + r.nextInt(9_000_000));
            list.add(s);
        }
        return List.copyOf(list);
    }
}
