package io.sluice.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads the HTTP parts of the config (a listener's {@code http} and {@code routes}, a cluster's {@code pool}).
 * Kept apart from {@link ConfigLoader} so the L7 keys live in one place.
 */
final class HttpConfigReader {
    static final Set<String> HTTP = ConfigNode.keys("max_request_line", "max_header_size", "max_headers",
            "max_body_size", "header_timeout", "keepalive_timeout", "response_timeout", "forwarded", "via", "retries",
            "retry_budget_percent", "access_log", "redirect_https", "hsts", "h2c", "trusted_proxies",
            "send_timeout");
    static final Set<String> HTTP2 = ConfigNode.keys("max_concurrent_streams", "initial_stream_window_size",
            "initial_connection_window_size", "max_header_list_size", "max_resets_per_window", "reset_window",
            "stall_timeout");
    static final Set<String> ACCESS_LOG = ConfigNode.keys("format", "path");
    static final Set<String> ROUTE = ConfigNode.keys("name", "match", "cluster", "prefix_rewrite",
            "request_headers", "response_headers", "max_body_size");
    /** {@code sni} is the one key of a tcp listener's routes ({@link SniRouteReader}); refused here. */
    static final Set<String> MATCH = ConfigNode.keys("host", "path_prefix", "path_exact", "path_regex", "method",
            "header", "sni");
    static final Set<String> HEADER_MATCH = ConfigNode.keys("name", "exact", "regex", "present");
    static final Set<String> HEADER_RULES = ConfigNode.keys("add", "set", "remove");
    static final Set<String> POOL = ConfigNode.keys("max_connections_per_loop", "max_idle_time",
            "max_requests_per_connection", "ping_interval", "ping_timeout", "max_waiting");

    private static final Pattern HOST = Pattern.compile("(\\*\\.)?[a-z0-9]([a-z0-9\\-.]*[a-z0-9])?(:\\d{1,5})?");

    private HttpConfigReader() {
    }

    static HttpConfig readHttp(ConfigNode n) {
        if (n == null) {
            return HttpConfig.DEFAULT;
        }
        return new HttpConfig(
                (int) size(n, "max_request_line", HttpConfig.DEFAULT_MAX_REQUEST_LINE, 256, 1 << 20),
                (int) size(n, "max_header_size", HttpConfig.DEFAULT_MAX_HEADER_SIZE, 1024, 1 << 20),
                n.integer("max_headers", HttpConfig.DEFAULT_MAX_HEADERS, 1, 10_000),
                size(n, "max_body_size", HttpConfig.DEFAULT_MAX_BODY_SIZE, 0, Long.MAX_VALUE),
                n.duration("header_timeout", HttpConfig.DEFAULT_HEADER_TIMEOUT, Duration.ofMillis(1)),
                n.duration("keepalive_timeout", HttpConfig.DEFAULT_KEEPALIVE_TIMEOUT, Duration.ZERO),
                n.duration("response_timeout", HttpConfig.DEFAULT_RESPONSE_TIMEOUT, Duration.ZERO),
                n.bool("forwarded", HttpConfig.DEFAULT_FORWARDED),
                n.bool("via", HttpConfig.DEFAULT_VIA),
                n.integer("retries", HttpConfig.DEFAULT_RETRIES, 0, 10),
                n.integer("retry_budget_percent", HttpConfig.DEFAULT_RETRY_BUDGET, 0, 100),
                readAccessLog(n.map("access_log", ACCESS_LOG)),
                n.bool("redirect_https", HttpConfig.DEFAULT_REDIRECT_HTTPS), readHsts(n),
                n.bool("h2c", HttpConfig.DEFAULT_H2C),
                ProxyProtocolReader.cidrs(n, "trusted_proxies"),
                n.duration("send_timeout", HttpConfig.DEFAULT_SEND_TIMEOUT, Duration.ZERO));
    }

    /** Window sizes between 64 KiB (HTTP/2's own initial window) and 16 MiB. */
    static Http2Config readHttp2(ConfigNode n) {
        if (n == null) {
            return Http2Config.DEFAULT;
        }
        int stream = (int) size(n, "initial_stream_window_size", Http2Config.DEFAULT_INITIAL_STREAM_WINDOW_SIZE,
                65535, 16 << 20);
        int connection = (int) size(n, "initial_connection_window_size",
                Http2Config.DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE, 65535, 64 << 20);
        return new Http2Config(
                n.integer("max_concurrent_streams", Http2Config.DEFAULT_MAX_CONCURRENT_STREAMS, 1, 10_000),
                stream, connection,
                (int) size(n, "max_header_list_size", Http2Config.DEFAULT_MAX_HEADER_LIST_SIZE, 1024, 1 << 20),
                n.integer("max_resets_per_window", Http2Config.DEFAULT_MAX_RESETS_PER_WINDOW, 1, 1_000_000),
                n.duration("reset_window", Http2Config.DEFAULT_RESET_WINDOW, Duration.ofSeconds(1)),
                n.duration("stall_timeout", Http2Config.DEFAULT_STALL_TIMEOUT, Duration.ZERO));
    }

    private static final Pattern HSTS = Pattern.compile(
            "(?i)\\s*max-age=\\d{1,10}\\s*(;\\s*includeSubDomains\\s*)?(;\\s*preload\\s*)?");

    /** A Strict-Transport-Security value as RFC 6797 spells it: max-age, then optional includeSubDomains, preload. */
    private static String readHsts(ConfigNode n) {
        String v = n.string("hsts", HttpConfig.DEFAULT_HSTS);
        if (v != null && !HSTS.matcher(v).matches()) {
            n.error("hsts", "expected \"max-age=SECONDS\" optionally followed by \"; includeSubDomains\" and "
                    + "\"; preload\", got \"" + v + "\"");
            return HttpConfig.DEFAULT_HSTS;
        }
        return v == null ? null : v.trim();
    }

    private static AccessLogConfig readAccessLog(ConfigNode n) {
        if (n == null) {
            return HttpConfig.DEFAULT_ACCESS_LOG;
        }
        AccessLogConfig.Format format = n.choice("format", AccessLogConfig.DEFAULT_FORMAT,
                AccessLogConfig.Format.class);
        String path = n.string("path", AccessLogConfig.DEFAULT_PATH);
        if (path == null || path.isBlank()) {
            n.error("path", "expected a file path or - for standard output");
            path = AccessLogConfig.DEFAULT_PATH;
        }
        return new AccessLogConfig(format, path);
    }

    static PoolConfig readPool(ConfigNode n) {
        if (n == null) {
            return PoolConfig.DEFAULT;
        }
        return new PoolConfig(
                n.integer("max_connections_per_loop", PoolConfig.DEFAULT_MAX_CONNECTIONS_PER_LOOP, 1, 100_000),
                n.duration("max_idle_time", PoolConfig.DEFAULT_MAX_IDLE_TIME, Duration.ofMillis(1)),
                n.integer("max_requests_per_connection", PoolConfig.DEFAULT_MAX_REQUESTS_PER_CONNECTION, 0,
                        Integer.MAX_VALUE),
                n.duration("ping_interval", PoolConfig.DEFAULT_PING_INTERVAL, Duration.ZERO),
                n.duration("ping_timeout", PoolConfig.DEFAULT_PING_TIMEOUT, Duration.ofMillis(1)),
                n.integer("max_waiting", PoolConfig.DEFAULT_MAX_WAITING, 0, 1_000_000));
    }

    static List<RouteConfig> readRoutes(ConfigNode listener, Set<String> clusterNames) {
        List<RouteConfig> routes = new ArrayList<>();
        List<Node> nodes = listener.list("routes");
        for (int i = 0; i < nodes.size(); i++) {
            ConfigNode r = new ConfigNode(listener.errorsSink(), listener.join("routes") + "[" + i + "]",
                    nodes.get(i), ROUTE);
            routes.add(readRoute(r, i, clusterNames));
        }
        return routes;
    }

    private static RouteConfig readRoute(ConfigNode r, int index, Set<String> clusterNames) {
        String name = r.string("name", "route-" + index);
        String cluster = r.requiredString("cluster");
        if (cluster != null && !clusterNames.contains(cluster)) {
            r.error("cluster", "no cluster named \"" + cluster + "\"" + DidYouMean.hint(cluster, clusterNames));
        }
        ConfigNode m = r.map("match", MATCH);
        RouteConfig.Match match = m == null ? RouteConfig.Match.ANY : readMatch(m);
        if (m == null) {
            r.error("match", "required (use match: {} to match every request)");
        }
        String rewrite = r.string("prefix_rewrite", null);
        if (rewrite != null) {
            if (match.pathPrefix() == null) {
                r.error("prefix_rewrite", "needs match.path_prefix (the part that is replaced)");
            } else if (!rewrite.startsWith("/")) {
                r.error("prefix_rewrite", "must start with /, got \"" + rewrite + "\"");
            }
        }
        RouteConfig.HeaderRules req = readRules(r.map("request_headers", HEADER_RULES));
        RouteConfig.HeaderRules resp = readRules(r.map("response_headers", HEADER_RULES));
        long maxBody = r.has("max_body_size") ? size(r, "max_body_size", -1, 0, Long.MAX_VALUE) : -1;
        return new RouteConfig(name, match, cluster, rewrite, req, resp, maxBody);
    }

    private static RouteConfig.Match readMatch(ConfigNode m) {
        if (m.has("sni")) {
            m.error("sni", "only for protocol: tcp (SNI passthrough); an http listener matches the host");
        }
        String host = m.string("host", null);
        if (host != null) {
            host = host.toLowerCase(Locale.ROOT);
            if (!HOST.matcher(host).matches()) {
                m.error("host", "expected a host name (api.example.com) or a wildcard (*.example.com), got \""
                        + host + "\"");
            }
        }
        String prefix = path(m, "path_prefix");
        String exact = path(m, "path_exact");
        Pattern regex = pattern(m, "path_regex");
        int paths = (prefix != null ? 1 : 0) + (exact != null ? 1 : 0) + (regex != null ? 1 : 0);
        if (paths > 1) {
            m.error("path_prefix", "set only one of path_prefix, path_exact and path_regex");
        }
        String method = m.string("method", null);
        if (method != null && !Values.isToken(method)) {
            m.error("method", "expected an HTTP method such as GET, got \"" + method + "\"");
        }
        RouteConfig.HeaderMatch header = null;
        ConfigNode h = m.map("header", HEADER_MATCH);
        if (h != null) {
            String name = headerName(h, "name", h.requiredString("name"));
            String hExact = h.string("exact", null);
            Pattern hRegex = pattern(h, "regex");
            boolean present = h.bool("present", false);
            int kinds = (hExact != null ? 1 : 0) + (hRegex != null ? 1 : 0) + (present ? 1 : 0);
            if (kinds != 1) {
                h.error("name", "set exactly one of exact, regex or present: true");
            }
            header = new RouteConfig.HeaderMatch(name, hExact, hRegex, present);
        }
        return new RouteConfig.Match(host, prefix, exact, regex, method, header);
    }

    private static String path(ConfigNode m, String key) {
        String p = m.string(key, null);
        if (p != null && !p.startsWith("/")) {
            m.error(key, "must start with /, got \"" + p + "\"");
        }
        return p;
    }

    private static Pattern pattern(ConfigNode n, String key) {
        String s = n.string(key, null);
        if (s == null) {
            return null;
        }
        try {
            return Pattern.compile(s);
        } catch (PatternSyntaxException e) {
            n.error(key, "invalid regular expression: " + e.getDescription());
            return null;
        }
    }

    private static String headerName(ConfigNode n, String key, String name) {
        if (name != null && !Values.isToken(name)) {
            n.error(key, "not a valid header name: \"" + name + "\"");
        }
        return name;
    }

    private static RouteConfig.HeaderRules readRules(ConfigNode n) {
        if (n == null) {
            return RouteConfig.HeaderRules.NONE;
        }
        List<RouteConfig.Header> add = headerMap(n, "add");
        List<RouteConfig.Header> set = headerMap(n, "set");
        List<String> remove = n.stringList("remove");
        for (String name : remove) {
            headerName(n, "remove", name);
        }
        return new RouteConfig.HeaderRules(add, set, remove);
    }

    /** A mapping of header name to value, in file order (header order can matter to backends). */
    private static List<RouteConfig.Header> headerMap(ConfigNode n, String key) {
        List<RouteConfig.Header> out = new ArrayList<>();
        Node v = n.value(key);
        if (v == null) {
            return out;
        }
        if (!(v instanceof MappingNode map)) {
            n.error(key, "expected a mapping of header name to value, got " + ConfigNode.describe(v));
            return out;
        }
        for (NodeTuple t : map.getValue()) {
            String path = n.join(key);
            if (!(t.getKeyNode() instanceof ScalarNode k) || !(t.getValueNode() instanceof ScalarNode val)) {
                n.errorsSink().add(path, t.getKeyNode(), "expected header: value");
                continue;
            }
            if (!Values.isToken(k.getValue())) {
                n.errorsSink().add(path + "." + k.getValue(), k, "not a valid header name");
                continue;
            }
            if (val.getValue().chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                n.errorsSink().add(path + "." + k.getValue(), val, "header values must not contain CR, LF or NUL");
                continue;
            }
            out.add(new RouteConfig.Header(k.getValue(), val.getValue()));
        }
        return out;
    }

    /** A size such as {@code 8KiB}; records an error and returns the default when malformed or out of range. */
    static long size(ConfigNode n, String key, long dflt, long min, long max) {
        String s = n.string(key, null);
        if (s == null) {
            return dflt;
        }
        long v = Values.parseSize(s);
        if (v < 0) {
            n.error(key, "expected a size such as 8192, 64KiB or 1MiB, got \"" + s + "\"");
            return dflt;
        }
        if (v < min || v > max) {
            n.error(key, "must be between " + min + " and " + max + " bytes, got " + s);
            return dflt;
        }
        return v;
    }
}
