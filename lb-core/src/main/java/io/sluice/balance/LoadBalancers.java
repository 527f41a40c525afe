package io.sluice.balance;

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

    /** True for algorithms that place work by {@code hash_key} (and so need a {@code hash_fallback}). */
    public static boolean isHashing(String name) {
        return name.equals("ring_hash") || name.equals("maglev");
    }

    public static LoadBalancer create(BalancerConfig config) {
        LoadBalancerProvider p = PROVIDERS.get(config.algorithm());
        if (p == null) {
            throw new IllegalArgumentException("unknown algorithm " + config.algorithm());
        }
        return p.create(config);
    }
}
