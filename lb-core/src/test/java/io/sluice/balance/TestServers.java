package io.sluice.balance;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Endpoints labelled like servers with literal addresses, and helpers to count where picks went. */
final class TestServers {
    private TestServers() {
    }

    static FakeEndpoint server(int i, int weight) {
        return new FakeEndpoint(address(i), weight);
    }

    /** The i-th of a cluster's distinct addresses, as {@code ServerConfig.label()} spells it. */
    static String address(int i) {
        return "10." + (i / 62500) + "." + (i / 250 % 250) + "." + (i % 250 + 1) + ":8080";
    }

    static List<FakeEndpoint> servers(int... weights) {
        List<FakeEndpoint> list = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            list.add(server(i, weights[i]));
        }
        return list;
    }

    static List<FakeEndpoint> equal(int n) {
        List<FakeEndpoint> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(server(i, 1));
        }
        return list;
    }

    static <E extends Endpoint> Map<E, Integer> count(Picker<E> picker, int picks) {
        Map<E, Integer> counts = new IdentityHashMap<>();
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < picks; i++) {
            counts.merge(picker.pick(ctx), 1, Integer::sum);
        }
        return counts;
    }

    static double weightShare(List<? extends Endpoint> servers, Endpoint s) {
        double total = 0;
        for (Endpoint x : servers) {
            total += x.weight();
        }
        return s.weight() / total;
    }
}
