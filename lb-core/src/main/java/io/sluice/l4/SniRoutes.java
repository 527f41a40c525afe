package io.sluice.l4;

import io.sluice.balance.HashKey;
import io.sluice.cluster.Cluster;
import io.sluice.config.HashKeyConfig;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SniRoute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Where a TCP listener sends a client by the server name of its ClientHello (SNI passthrough): an exact name
 * first, then the longest matching wildcard ({@code *.example.com} matches a.example.com and
 * a.b.example.com, not example.com), then the listener's own cluster. Immutable: a reload builds a new one.
 */
final class SniRoutes {
    /** A place a client can go: its route label in metrics, its cluster, and its counts. */
    record Target(String label, Cluster cluster, PassthroughStats.Counts counts) {
    }

    private final Map<String, Target> exact = new HashMap<>();
    /** By the suffix a wildcard matches, with its dot: ".example.com". */
    private final Map<String, Target> wildcards = new HashMap<>();
    private final List<String> routeLabels = new ArrayList<>();
    private final Target fallback;
    private final PassthroughStats.Counts refused;
    private final boolean requireTls;
    private final long peekTimeoutMillis;

    SniRoutes(ListenerConfig config, Function<String, Cluster> clusters, PassthroughStats stats) {
        for (SniRoute r : config.sniRoutes()) {
            Target t = new Target(r.name(), clusters.apply(r.cluster()), stats.route(r.name()));
            if (r.sni().startsWith("*.")) {
                wildcards.put(r.sni().substring(1), t);
            } else {
                exact.put(r.sni(), t);
            }
            routeLabels.add(r.name());
        }
        fallback = new Target(PassthroughStats.DEFAULT_ROUTE, clusters.apply(config.cluster()),
                stats.route(PassthroughStats.DEFAULT_ROUTE));
        refused = stats.route(PassthroughStats.NO_ROUTE);
        Set<String> labels = new HashSet<>(routeLabels);
        labels.add(PassthroughStats.DEFAULT_ROUTE);
        labels.add(PassthroughStats.NO_ROUTE);
        stats.keepOnly(labels);
        requireTls = config.passthroughRequireTls();
        peekTimeoutMillis = Math.max(1, config.tlsPeekTimeout().toMillis());
    }

    /**
     * Whether a new connection's ClientHello is read before its server is chosen. The cluster's hash key is
     * asked each time: a reload may change the cluster's algorithm without touching the listener.
     */
    boolean peeks() {
        return !routeLabels.isEmpty() || requireTls || hashesBySni(fallback.cluster());
    }

    static boolean hashesBySni(Cluster cluster) {
        HashKey key = cluster.hashKey();
        return key != null && key.kind() == HashKeyConfig.Kind.SNI;
    }

    /** The target for a client that asked for {@code serverName} (lower case, from the ClientHello). */
    Target target(String serverName) {
        Target t = exact.get(serverName);
        if (t != null || wildcards.isEmpty()) {
            return t != null ? t : fallback;
        }
        // Longest suffix first: the first dot gives the most specific wildcard.
        for (int dot = serverName.indexOf('.'); dot >= 0; dot = serverName.indexOf('.', dot + 1)) {
            t = wildcards.get(serverName.substring(dot));
            if (t != null) {
                return t;
            }
        }
        return fallback;
    }

    Target fallback() {
        return fallback;
    }

    /** The counts of clients closed before a route was chosen (too slow, malformed, not TLS when required). */
    PassthroughStats.Counts refused() {
        return refused;
    }

    boolean requireTls() {
        return requireTls;
    }

    long peekTimeoutMillis() {
        return peekTimeoutMillis;
    }

    /** The series worth exporting: only the results each label can get. */
    List<PassthroughStats.Series> series() {
        List<PassthroughStats.Series> all = new ArrayList<>();
        routeLabels.forEach(r -> all.add(new PassthroughStats.Series(r, PassthroughStats.Result.ROUTED)));
        for (PassthroughStats.Result r : List.of(PassthroughStats.Result.ROUTED, PassthroughStats.Result.NO_SNI,
                PassthroughStats.Result.NOT_TLS)) {
            all.add(new PassthroughStats.Series(PassthroughStats.DEFAULT_ROUTE, r));
        }
        for (PassthroughStats.Result r : List.of(PassthroughStats.Result.NOT_TLS, PassthroughStats.Result.TIMEOUT,
                PassthroughStats.Result.MALFORMED)) {
            all.add(new PassthroughStats.Series(PassthroughStats.NO_ROUTE, r));
        }
        return all;
    }
}
