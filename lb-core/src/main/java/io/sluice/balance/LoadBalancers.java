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
        for (LoadBalancerProvider p : List.of(new RoundRobin.Provider(), new SmoothWeightedRoundRobin.Provider())) {
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

    public static LoadBalancer create(BalancerConfig config) {
        LoadBalancerProvider p = PROVIDERS.get(config.algorithm());
        if (p == null) {
            throw new IllegalArgumentException("unknown algorithm " + config.algorithm());
        }
        return p.create(config);
    }
}
