package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.sluice.config.RouteConfig;
import java.util.concurrent.atomic.LongAdder;

/** A compiled route: its conditions, its upstream and the counters it owns. */
public final class Route {
    private final String name;
    private final RouteConfig config;
    private final RouteConfig.Match match;
    private final Upstream upstream;
    private final String clusterName;
    private final long maxBodySize;
    /**
     * Responses by protocol and status class: index {@code protocol.ordinal() * 6 + class}, class 1 = 1xx ...
     * 5 = 5xx. Shared with the route of the same name and cluster
     * in the table a reload replaces, so its series keep counting instead of starting over.
     */
    private final LongAdder[] responses;

    Route(String name, RouteConfig config, String clusterName, Upstream upstream, long listenerMaxBody,
          LongAdder[] carried) {
        this.name = name;
        this.clusterName = clusterName;
        this.config = config;
        this.match = config == null ? RouteConfig.Match.ANY : config.match();
        this.upstream = upstream;
        this.maxBodySize = config == null || config.maxBodySize() < 0 ? listenerMaxBody : config.maxBodySize();
        this.responses = carried != null ? carried : new LongAdder[6 * HttpProtocol.values().length];
        for (int i = 0; i < responses.length; i++) {
            if (responses[i] == null) {
                responses[i] = new LongAdder();
            }
        }
    }

    public String name() {
        return name;
    }

    /** Null in a table built only to explain routing ({@link RouteTable#explain}). */
    public Upstream upstream() {
        return upstream;
    }

    public String clusterName() {
        return clusterName;
    }

    /** The route's settings, or null for the listener's default route. */
    public RouteConfig config() {
        return config;
    }

    /** 0 = unlimited. */
    long maxBodySize() {
        return maxBodySize;
    }

    LongAdder[] counters() {
        return responses;
    }

    /** Over both protocols. */
    public long responses(int statusClass) {
        long n = 0;
        for (HttpProtocol p : HttpProtocol.values()) {
            n += responses(p, statusClass);
        }
        return n;
    }

    public long responses(HttpProtocol protocol, int statusClass) {
        return responses[protocol.ordinal() * 6 + statusClass].sum();
    }

    void countResponse(HttpProtocol protocol, int status) {
        int c = status / 100;
        if (c >= 1 && c <= 5) {
            responses[protocol.ordinal() * 6 + c].increment();
        }
    }

    /** {@code host} is lower case without port; {@code path} has no query. */
    boolean matches(String host, String path, HttpRequest req) {
        RouteConfig.Match m = match;
        if (m.host() != null && !hostMatches(m.host(), host)) {
            return false;
        }
        if (m.pathPrefix() != null && !path.startsWith(m.pathPrefix())) {
            return false;
        }
        if (m.pathExact() != null && !path.equals(m.pathExact())) {
            return false;
        }
        if (m.pathRegex() != null && !m.pathRegex().matcher(path).matches()) {
            return false;
        }
        if (m.method() != null && !m.method().equals(req.method().name())) {
            return false;
        }
        return m.header() == null || headerMatches(m.header(), req.headers());
    }

    private static boolean hostMatches(String pattern, String host) {
        if (host == null) {
            return false;
        }
        if (pattern.startsWith("*.")) {
            // *.example.com matches a.example.com and a.b.example.com, not example.com itself.
            return host.length() > pattern.length() - 1 && host.endsWith(pattern.substring(1));
        }
        return pattern.equals(host);
    }

    private static boolean headerMatches(RouteConfig.HeaderMatch h, HttpHeaders headers) {
        if (h.present()) {
            return headers.contains(h.name());
        }
        for (String v : headers.getAll(h.name())) {
            if (h.exact() != null ? h.exact().equals(v) : h.regex().matcher(v).matches()) {
                return true;
            }
        }
        return false;
    }

    /** The path to forward: with {@code prefix_rewrite}, the matched prefix replaced. */
    public String rewrite(String uri) {
        if (config == null || config.prefixRewrite() == null) {
            return uri;
        }
        String rest = uri.substring(config.match().pathPrefix().length());
        String p = config.prefixRewrite();
        if (p.endsWith("/") && rest.startsWith("/")) {
            rest = rest.substring(1);
        }
        return p + rest;
    }
}
