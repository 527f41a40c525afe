package io.sluice.balance;

import io.sluice.cluster.Server;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Servers with literal addresses (no DNS) and helpers to count where picks went. */
final class TestServers {
    private TestServers() {
    }

    static Server server(int i, int weight) {
        return server(i, weight, false);
    }

    static Server server(int i, int weight, boolean backup) {
        String ip = "10." + (i / 62500) + "." + (i / 250 % 250) + "." + (i % 250 + 1);
        return new Server("test", new ServerConfig(new HostPort(ip, 8080), weight, backup));
    }

    static List<Server> servers(int... weights) {
        List<Server> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(server(i, weights[i]));
        }
        return list;
    }

    static List<Server> equal(int n) {
        List<Server> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(server(i, 1));
        }
        return list;
    }

    static Map<Server, Integer> count(Picker picker, int picks) {
        Map<Server, Integer> counts = new IdentityHashMap<>();
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < picks; i++) {
            counts.merge(picker.pick(ctx), 1, Integer::sum);
        }
        return counts;
    }

    static double weightShare(List<Server> servers, Server s) {
        double total = 0;
        for (Server x : servers) {
            total += x.weight();
        }
        return s.weight() / total;
    }
}
