package io.sluice.http;

import io.netty.handler.codec.http.HttpRequest;
import io.sluice.config.ListenerConfig;
import io.sluice.config.RouteConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A listener's routes in order; the first that matches wins, then the default route (the listener's cluster). */
public final class RouteTable {
    private final Route[] routes;
    private final Route fallback;

    public RouteTable(ListenerConfig config, Map<String, Upstream> upstreams) {
        this(config, upstreams, null);
    }

    /** A table that replaces {@code previous}: routes with the same name and cluster keep their counts. */
    RouteTable(ListenerConfig config, Map<String, Upstream> upstreams, RouteTable previous) {
        List<Route> list = new ArrayList<>();
        long maxBody = config.http().maxBodySize();
        for (RouteConfig rc : config.routes()) {
            list.add(new Route(rc.name(), rc, rc.cluster(), upstreams.get(rc.cluster()), maxBody,
                    carried(previous, rc.name(), rc.cluster())));
        }
        this.routes = list.toArray(new Route[0]);
        this.fallback = new Route("default", null, config.cluster(), upstreams.get(config.cluster()), maxBody,
                carried(previous, "default", config.cluster()));
    }

    private static java.util.concurrent.atomic.LongAdder[] carried(RouteTable previous, String name, String cluster) {
        if (previous == null) {
            return null;
        }
        for (Route r : previous.all()) {
            if (r.name().equals(name) && r.clusterName().equals(cluster)) {
                return r.counters();
            }
        }
        return null;
    }

    /** A table with no live clusters behind it, to tell where a request would go ({@code sluice route}). */
    public static RouteTable explain(ListenerConfig config) {
        return new RouteTable(config, Map.of());
    }

    /** Whether a route's cluster sends PROXY headers to its servers (connections to them are then per client). */
    boolean anySendsProxyHeaders() {
        for (Route r : routes) {
            if (sendsProxyHeaders(r)) {
                return true;
            }
        }
        return sendsProxyHeaders(fallback);
    }

    private static boolean sendsProxyHeaders(Route r) {
        return r.upstream() != null && r.upstream().cluster().config().sendProxyProtocol() != null;
    }

    /** Every route, the default last. */
    public List<Route> all() {
        List<Route> out = new ArrayList<>(List.of(routes));
        out.add(fallback);
        return out;
    }

    /** The route for a request; {@code req}'s URI may be origin or absolute form. */
    public Route match(HttpRequest req) {
        return routes.length == 0 ? fallback : match(ClientRequest.of(req));
    }

    /** The route for a request whose target is already parsed. */
    Route match(ClientRequest c) {
        if (routes.length == 0) {
            return fallback; // the common listener with only a default cluster: nothing to parse
        }
        String host = routingHost(c.host);
        String path = path(c.originUri);
        for (Route r : routes) {
            if (r.matches(host, path, c.request)) {
                return r;
            }
        }
        return fallback;
    }

    /** A host as routes name it: lower case, without port. */
    static String routingHost(String h) {
        if (h == null) {
            return null;
        }
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return (close < 0 ? h : h.substring(0, close + 1)).toLowerCase(Locale.ROOT);
        }
        int colon = h.indexOf(':');
        return (colon < 0 ? h : h.substring(0, colon)).toLowerCase(Locale.ROOT);
    }

    /** The path of an origin-form target, without query. */
    static String path(String originUri) {
        int q = originUri.indexOf('?');
        return q < 0 ? originUri : originUri.substring(0, q);
    }
}
