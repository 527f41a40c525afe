package io.sluice.balance;

import io.sluice.config.Algorithms;
import io.sluice.config.BalancerConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/** The registry of algorithms by YAML name: the built-in ones, then any found through ServiceLoader. */
public final class LoadBalancers {
    private static final Map<String, LoadBalancerProvider> PROVIDERS = discover();

    private LoadBalancers() {
    }

    private static Map<String, LoadBalancerProvider> discover() {
        Map<String, LoadBalancerProvider> map = new LinkedHashMap<>();
        for (LoadBalancerProvider p : List.of(new RoundRobin.Provider(), new SmoothWeightedRoundRobin.Provider(),
                new WeightedRandom.Provider(), new LeastConnections.Provider(), new PowerOfTwoChoices.Provider(),
                new LeastResponseTime.Provider(), new RingHash.Provider(), new Maglev.Provider())) {
            map.put(p.name(), p);
        }
        for (LoadBalancerProvider p : ServiceLoader.load(LoadBalancerProvider.class)) {
            map.putIfAbsent(p.name(), p);
        }
        return Collections.unmodifiableMap(map);
    }

    public static Set<String> names() {
        return PROVIDERS.keySet();
    }

    /** True for algorithms whose provider declares {@link LoadBalancerProvider#hashing()}; false if unknown. */
    public static boolean isHashing(String name) {
        LoadBalancerProvider p = PROVIDERS.get(name);
        return p != null && p.hashing();
    }

    public static LoadBalancer create(BalancerConfig config) {
        LoadBalancerProvider p = PROVIDERS.get(config.algorithm());
        if (p == null) {
            throw new IllegalArgumentException("unknown algorithm " + config.algorithm());
        }
        return p.create(config);
    }

    /** This registry as the config loader sees it; registered in META-INF/services. */
    public static final class Catalog implements Algorithms {
        @Override
        public Set<String> names() {
            return LoadBalancers.names();
        }

        @Override
        public boolean hashing(String name) {
            return isHashing(name);
        }
    }
}
