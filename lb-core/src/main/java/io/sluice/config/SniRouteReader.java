package io.sluice.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads the {@code routes} of a {@code tcp} listener: SNI passthrough, where a route matches the server name of
 * the client's TLS ClientHello and nothing else. The keys are the HTTP route's (one grammar for
 * {@code listeners[].routes[]}), so every HTTP-only key is refused here by name.
 */
final class SniRouteReader {
    /** The metrics label of connections that went to the listener's own cluster; no route may take it. */
    static final String DEFAULT_ROUTE = "default";

    private static final Set<String> TCP_ROUTE = ConfigNode.keys("name", "match", "cluster");
    private static final Pattern SERVER_NAME =
            Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*");

    private SniRouteReader() {
    }

    static List<SniRoute> read(ConfigNode listener, Set<String> clusterNames) {
        List<SniRoute> routes = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> serverNames = new HashSet<>();
        List<Node> nodes = listener.list("routes");
        for (int i = 0; i < nodes.size(); i++) {
            ConfigNode r = new ConfigNode(listener.errorsSink(), listener.join("routes") + "[" + i + "]",
                    nodes.get(i), HttpConfigReader.ROUTE);
            for (String key : HttpConfigReader.ROUTE) {
                if (!TCP_ROUTE.contains(key) && r.has(key)) {
                    r.error(key, "only for protocol: http; a tcp listener's route has name, match: { sni } and "
                            + "cluster");
                }
            }
            String name = r.string("name", "route-" + i);
            if (DEFAULT_ROUTE.equals(name)) {
                r.error("name", "\"" + DEFAULT_ROUTE + "\" is the listener's own cluster in metrics; pick another");
            } else if (!names.add(name)) {
                r.error("name", "duplicate route name \"" + name + "\"");
            }
            String cluster = r.requiredString("cluster");
            if (cluster != null && !clusterNames.contains(cluster)) {
                r.error("cluster", "no cluster named \"" + cluster + "\"" + DidYouMean.hint(cluster, clusterNames));
            }
            String sni = readMatch(r);
            if (sni != null && !serverNames.add(sni)) {
                r.error("match", "another route already matches sni \"" + sni + "\"");
            }
            routes.add(new SniRoute(name, sni, cluster));
        }
        return routes;
    }

    private static String readMatch(ConfigNode r) {
        ConfigNode m = r.map("match", HttpConfigReader.MATCH);
        if (m == null) {
            r.error("match", "required: match: { sni: NAME } (NAME exact, or *.example.com for any subdomain)");
            return null;
        }
        for (String key : HttpConfigReader.MATCH) {
            if (!key.equals("sni") && m.has(key)) {
                m.error(key, "only for protocol: http; a tcp listener routes by sni alone");
            }
        }
        String sni = m.requiredString("sni");
        if (sni == null) {
            return null;
        }
        sni = sni.toLowerCase(Locale.ROOT);
        if (!SERVER_NAME.matcher(sni).matches()) {
            m.error("sni", "expected a server name (api.example.com) or a leading wildcard (*.example.com), got \""
                    + sni + "\"");
            return null;
        }
        return sni;
    }

    /** The listener's cluster and every cluster its SNI routes name. */
    static List<String> clustersOf(ListenerConfig listener) {
        List<String> used = new ArrayList<>();
        used.add(listener.cluster());
        listener.sniRoutes().forEach(r -> used.add(r.cluster()));
        return used;
    }

    /**
     * {@code hash_key: sni} needs a ClientHello that the listener reads without terminating: only a tcp
     * listener without {@code tls} has one. Elsewhere the key would silently place every connection by the
     * fallback, so it is an error on the listener that routes to such a cluster.
     */
    static void checkSniHashing(ConfigNode n, ListenerConfig listener, Map<String, ClusterConfig> clusters) {
        if (listener.protocol() == ListenerConfig.Protocol.TCP && listener.tls() == null) {
            return;
        }
        List<String> used = new ArrayList<>();
        used.add(listener.cluster());
        listener.routes().forEach(r -> used.add(r.cluster()));
        for (int i = 0; i < used.size(); i++) {
            ClusterConfig c = clusters.get(used.get(i));
            if (c != null && c.balancer().hashKey().kind() == HashKeyConfig.Kind.SNI) {
                n.error(i == 0 ? "cluster" : "routes", "cluster \"" + c.name() + "\" has hash_key: sni, which "
                        + "only a tcp listener without tls can read (from the ClientHello it passes through)");
                return;
            }
        }
    }
}
