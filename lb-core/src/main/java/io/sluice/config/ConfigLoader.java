package io.sluice.config;

import io.sluice.balance.LoadBalancers;
import io.sluice.config.ConfigNode.ConfigErrors;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads a YAML file into a {@link SluiceConfig}: safe loading with limits, then one validation pass that
 * collects every error with its path, line and column. Nothing is half-applied: either a whole valid config
 * comes back or a {@link ConfigException} listing all problems.
 */
public final class ConfigLoader {
    static final int MAX_FILE_CHARS = 4 * 1024 * 1024;

    private static final Set<String> TOP = ConfigNode.keys("runtime", "admin", "listeners", "clusters");
    private static final Set<String> RUNTIME = ConfigNode.keys("transport", "worker_threads", "drain_timeout",
            "dns_refresh");
    private static final Set<String> ADMIN = ConfigNode.keys("enabled", "bind");
    private static final Set<String> LISTENER = ConfigNode.keys("name", "bind", "protocol", "cluster",
            "idle_timeout", "max_connections", "backlog", "http", "routes", "splice");
    private static final Set<String> CLUSTER = ConfigNode.keys("name", "algorithm", "servers", "connect_timeout",
            "connect_retries", "hash_key", "hash_fallback", "virtual_nodes", "maglev_table_size", "ewma_decay",
            "slow_start", "health_check", "outlier_detection", "panic_threshold", "sticky_cookie", "pool");
    private static final Set<String> SERVER = ConfigNode.keys("address", "weight", "backup");
    private static final Set<String> HEALTH = ConfigNode.keys("type", "method", "path", "host", "expect_status",
            "expect_body", "interval", "timeout", "jitter", "rise", "fall", "port", "initial_state", "close_on_down");
    private static final Set<String> STICKY = ConfigNode.keys("name", "ttl", "path", "http_only", "secure",
            "same_site");
    private static final Set<String> OUTLIER = ConfigNode.keys("consecutive_failures", "base_ejection_time",
            "max_ejection_time", "max_ejection_percent", "failures");

    private ConfigLoader() {
    }

    /**
     * The keys each section accepts, by its path in the file ({@code []} for every item of a list). For tests
     * that hold configs/reference.yaml to the loader; a new section must be added here too.
     */
    static Map<String, Set<String>> acceptedKeys() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        m.put("", TOP);
        m.put("runtime", RUNTIME);
        m.put("admin", ADMIN);
        m.put("listeners[]", LISTENER);
        m.put("listeners[].http", HttpConfigReader.HTTP);
        m.put("listeners[].http.access_log", HttpConfigReader.ACCESS_LOG);
        m.put("listeners[].routes[]", HttpConfigReader.ROUTE);
        m.put("listeners[].routes[].match", HttpConfigReader.MATCH);
        m.put("listeners[].routes[].match.header", HttpConfigReader.HEADER_MATCH);
        m.put("listeners[].routes[].request_headers", HttpConfigReader.HEADER_RULES);
        m.put("listeners[].routes[].response_headers", HttpConfigReader.HEADER_RULES);
        m.put("clusters[]", CLUSTER);
        m.put("clusters[].servers[]", SERVER);
        m.put("clusters[].health_check", HEALTH);
        m.put("clusters[].outlier_detection", OUTLIER);
        m.put("clusters[].sticky_cookie", STICKY);
        m.put("clusters[].pool", HttpConfigReader.POOL);
        return m;
    }

    public static SluiceConfig load(Path file) throws ConfigException, IOException {
        if (Files.size(file) > MAX_FILE_CHARS) {
            throw new ConfigException(List.of(new ConfigError("", 0, 0,
                    "file is larger than " + MAX_FILE_CHARS / (1024 * 1024) + " MiB")));
        }
        return load(new StringReader(utf8(Files.readAllBytes(file))));
    }

    /**
     * Decodes strictly, so that a file saved in another encoding gets an error that says where, instead of
     * the decoder's bare "Input length = 1".
     */
    private static String utf8(byte[] bytes) throws ConfigException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int offset = in.position();
            int line = 1;
            int column = 1;
            for (int i = 0; i < offset; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    column = 1;
                } else if ((bytes[i] & 0xC0) != 0x80) {
                    column++; // counts characters, not the continuation bytes of one
                }
            }
            throw new ConfigException(List.of(new ConfigError("", line, column, String.format(
                    "not UTF-8: invalid byte 0x%02x at offset %d", bytes[offset] & 0xff, offset))));
        }
        return out.flip().toString();
    }

    public static SluiceConfig parse(String yaml) throws ConfigException {
        try {
            return load(new StringReader(yaml));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static SluiceConfig load(Reader reader) throws ConfigException, IOException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(20);
        options.setNestingDepthLimit(20);
        options.setCodePointLimit(MAX_FILE_CHARS);
        options.setAllowRecursiveKeys(false);
        Yaml yaml = new Yaml(new SafeConstructor(options));
        Node root;
        try {
            root = yaml.compose(reader);
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            String msg = "invalid YAML: " + (e.getProblem() != null ? e.getProblem() : e.getMessage());
            throw new ConfigException(List.of(m == null ? new ConfigError("", 0, 0, msg)
                    : new ConfigError("", m.getLine() + 1, m.getColumn() + 1, msg)));
        } catch (YAMLException e) {
            throw new ConfigException(List.of(new ConfigError("", 0, 0, "invalid YAML: " + e.getMessage())));
        }
        ConfigErrors errors = new ConfigErrors();
        if (root == null) {
            errors.add("", "the file is empty; it needs at least listeners and clusters");
            throw new ConfigException(errors.sorted());
        }
        SluiceConfig config = read(errors, root);
        if (!errors.isEmpty()) {
            throw new ConfigException(errors.sorted());
        }
        return config;
    }

    private static SluiceConfig read(ConfigErrors errors, Node root) {
        ConfigNode top = new ConfigNode(errors, "", root, TOP);
        RuntimeConfig runtime = readRuntime(top.map("runtime", RUNTIME));
        AdminConfig admin = readAdmin(top.map("admin", ADMIN));

        List<ClusterConfig> clusters = new ArrayList<>();
        List<Node> clusterNodes = top.list("clusters");
        if (!top.has("clusters")) {
            top.error("clusters", "required: at least one cluster");
        }
        Map<String, Node> clusterNames = new HashMap<>();
        for (int i = 0; i < clusterNodes.size(); i++) {
            ConfigNode c = new ConfigNode(errors, "clusters[" + i + "]", clusterNodes.get(i), CLUSTER);
            ClusterConfig cluster = readCluster(c);
            if (cluster.name() != null && clusterNames.putIfAbsent(cluster.name(), c.node()) != null) {
                c.error("name", "duplicate cluster name \"" + cluster.name() + "\"");
            }
            clusters.add(cluster);
        }

        List<ListenerConfig> listeners = new ArrayList<>();
        List<Node> listenerNodes = top.list("listeners");
        if (!top.has("listeners")) {
            top.error("listeners", "required: at least one listener");
        }
        Set<String> listenerNames = new HashSet<>();
        Map<Integer, List<BoundSocket>> bound = new HashMap<>();
        if (admin.enabled() && admin.bind().port() != 0) {
            bound.computeIfAbsent(admin.bind().port(), p -> new ArrayList<>())
                    .add(new BoundSocket("admin.bind", admin.bind()));
        }
        for (int i = 0; i < listenerNodes.size(); i++) {
            ConfigNode l = new ConfigNode(errors, "listeners[" + i + "]", listenerNodes.get(i), LISTENER);
            ListenerConfig listener = readListener(l, clusterNames.keySet(), runtime.transport());
            if (listener.name() != null && !listenerNames.add(listener.name())) {
                l.error("name", "duplicate listener name \"" + listener.name() + "\"");
            }
            if (listener.bind() != null && listener.bind().port() != 0) {
                List<BoundSocket> same = bound.computeIfAbsent(listener.bind().port(), p -> new ArrayList<>());
                for (BoundSocket other : same) {
                    if (other.clashes(listener.bind())) {
                        l.error("bind", "port " + listener.bind().port() + " is already bound by " + other.owner()
                                + " (" + other.address() + ")");
                        break;
                    }
                }
                same.add(new BoundSocket("listeners[" + i + "].bind", listener.bind()));
            }
            listeners.add(listener);
        }
        return new SluiceConfig(runtime, admin, listeners, clusters);
    }

    private record BoundSocket(String owner, HostPort address) {
        boolean clashes(HostPort other) {
            return address.isWildcard() || other.isWildcard() || address.host().equals(other.host());
        }
    }

    private static RuntimeConfig readRuntime(ConfigNode n) {
        RuntimeConfig d = RuntimeConfig.DEFAULT;
        if (n == null) {
            return d;
        }
        return new RuntimeConfig(
                n.choice("transport", d.transport(), TransportKind.class),
                n.integer("worker_threads", d.workerThreads(), 0, 1024),
                n.duration("drain_timeout", d.drainTimeout(), Duration.ZERO),
                n.duration("dns_refresh", d.dnsRefresh(), Duration.ofSeconds(1)));
    }

    private static AdminConfig readAdmin(ConfigNode n) {
        AdminConfig d = AdminConfig.DEFAULT;
        if (n == null) {
            return d;
        }
        return new AdminConfig(n.bool("enabled", d.enabled()), bindAddress(n, "bind", d.bind(), false));
    }

    private static HostPort bindAddress(ConfigNode n, String key, HostPort dflt, boolean required) {
        HostPort hp = n.hostPort(key, dflt, required, true);
        if (hp != null && hp != dflt && !hp.isLiteral() && !hp.host().equals("localhost")) {
            n.error(key, "bind to an IP address (or localhost, 0.0.0.0, ::), not a host name, got \""
                    + hp.host() + "\"");
            return dflt;
        }
        return hp;
    }

    private static ListenerConfig readListener(ConfigNode n, Set<String> clusterNames, TransportKind transport) {
        String name = n.requiredString("name");
        HostPort bind = bindAddress(n, "bind", null, true);
        ListenerConfig.Protocol protocol = n.choice("protocol", ListenerConfig.Protocol.TCP,
                ListenerConfig.Protocol.class);
        String cluster = n.requiredString("cluster");
        if (cluster != null && !clusterNames.contains(cluster)) {
            n.error("cluster", "no cluster named \"" + cluster + "\"" + DidYouMean.hint(cluster, clusterNames));
        }
        Duration idle = n.duration("idle_timeout", Duration.ofMinutes(10), Duration.ZERO);
        int maxConnections = n.integer("max_connections", 0, 0, 10_000_000);
        int backlog = n.integer("backlog", 1024, 1, 65535);
        HttpConfig http = HttpConfigReader.readHttp(n.map("http", HttpConfigReader.HTTP));
        List<RouteConfig> routes = HttpConfigReader.readRoutes(n, clusterNames);
        if (protocol != ListenerConfig.Protocol.HTTP) {
            for (String key : List.of("http", "routes")) {
                if (n.has(key)) {
                    n.error(key, "only for protocol: http");
                }
            }
        }
        boolean splice = n.bool("splice", false);
        if (splice && protocol != ListenerConfig.Protocol.TCP) {
            n.error("splice", "only for protocol: tcp (an HTTP listener has to read the bytes it forwards)");
        } else if (splice && transport != TransportKind.EPOLL) {
            // splice(2) waits on epoll readiness; io_uring and NIO event loops cannot drive it.
            n.error("splice", "needs runtime.transport: epoll, got " + transport.name().toLowerCase(Locale.ROOT));
        }
        return new ListenerConfig(name, bind, protocol, cluster, idle, maxConnections, backlog, http, routes,
                splice);
    }

    private static ClusterConfig readCluster(ConfigNode n) {
        String name = n.requiredString("name");
        BalancerConfig balancer = readBalancer(n);
        List<ServerConfig> servers = new ArrayList<>();
        List<Node> serverNodes = n.list("servers");
        if (serverNodes.isEmpty()) {
            n.error("servers", "a cluster needs at least one server");
        }
        Set<HostPort> seen = new HashSet<>();
        for (int i = 0; i < serverNodes.size(); i++) {
            ConfigNode s = new ConfigNode(n.errorsSink(), n.join("servers") + "[" + i + "]", serverNodes.get(i),
                    SERVER);
            HostPort address = s.hostPort("address", null, true, false);
            int weight = s.integer("weight", 1, 1, 10_000);
            boolean backup = s.bool("backup", false);
            if (address != null) {
                if (!seen.add(address)) {
                    s.error("address", "server " + address + " is listed twice");
                }
                servers.add(new ServerConfig(address, weight, backup));
            }
        }
        Duration connectTimeout = n.duration("connect_timeout", Duration.ofSeconds(5), Duration.ofMillis(1));
        int retries = n.integer("connect_retries", 2, 0, 100);
        HealthCheckConfig health = readHealth(n.map("health_check", HEALTH));
        OutlierDetectionConfig outlier = readOutlier(n.map("outlier_detection", OUTLIER));
        int panic = n.integer("panic_threshold", 50, 0, 100);
        PoolConfig pool = HttpConfigReader.readPool(n.map("pool", HttpConfigReader.POOL));
        StickyCookieConfig sticky = readSticky(n.map("sticky_cookie", STICKY));
        return new ClusterConfig(name, balancer, servers, connectTimeout, retries, health, outlier, panic, pool,
                sticky);
    }

    private static BalancerConfig readBalancer(ConfigNode n) {
        BalancerConfig d = BalancerConfig.of("round_robin");
        String algorithm = knownAlgorithm(n, "algorithm", d.algorithm());
        String hashKey = n.string("hash_key", null);
        if (hashKey != null && !HashKeys.isValid(hashKey)) {
            n.error("hash_key", "expected source_ip, path, header:NAME, cookie:NAME or query:NAME, got \""
                    + hashKey + "\"");
        }
        String fallback = knownAlgorithm(n, "hash_fallback", d.hashFallback());
        if (fallback != null && LoadBalancers.isHashing(fallback)) {
            // The fallback places work that has no key, so it cannot itself need one.
            n.error("hash_fallback", "must be an algorithm that needs no hash key, got \"" + fallback + "\"");
        }
        int virtualNodes = n.integer("virtual_nodes", d.virtualNodes(), 1, 10_000);
        int tableSize = n.integer("maglev_table_size", d.tableSize(), 7, 10_000_019);
        if (n.has("maglev_table_size") && !isPrime(tableSize)) {
            n.error("maglev_table_size", "must be a prime number (e.g. 65537), got " + tableSize);
        }
        Duration decay = n.duration("ewma_decay", d.ewmaDecay(), Duration.ofMillis(1));
        Duration slowStart = n.duration("slow_start", d.slowStart(), Duration.ZERO);
        return new BalancerConfig(algorithm, hashKey, fallback, virtualNodes, tableSize, decay, slowStart);
    }

    private static String knownAlgorithm(ConfigNode n, String key, String dflt) {
        String name = n.string(key, dflt);
        if (name != null && !LoadBalancers.names().contains(name)) {
            n.error(key, "unknown algorithm \"" + name + "\"" + DidYouMean.hint(name, LoadBalancers.names())
                    + " (known: " + String.join(", ", LoadBalancers.names()) + ")");
            return dflt;
        }
        return name;
    }

    private static HealthCheckConfig readHealth(ConfigNode n) {
        if (n == null) {
            return null;
        }
        HealthCheckConfig.Type type = n.choice("type", HealthCheckConfig.Type.TCP, HealthCheckConfig.Type.class);
        String method = n.string("method", "GET");
        if (method != null && !method.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            n.error("method", "expected an HTTP method such as GET or HEAD, got \"" + method + "\"");
            method = "GET";
        }
        String path = n.string("path", "/");
        if (path != null && !path.startsWith("/")) {
            n.error("path", "must start with /, got \"" + path + "\"");
        }
        String host = n.string("host", null);
        List<int[]> status = new ArrayList<>();
        List<String> statusTexts = n.has("expect_status") ? n.stringList("expect_status") : List.of("200-399");
        for (String s : statusTexts) {
            int[] range = statusRange(s);
            if (range == null) {
                n.error("expect_status", "expected a status (200) or range (200-399) between 100 and 599, got \""
                        + s + "\"");
            } else {
                status.add(range);
            }
        }
        String body = n.string("expect_body", null);
        Duration interval = n.duration("interval", Duration.ofSeconds(5), Duration.ofMillis(10));
        Duration timeout = n.duration("timeout", Duration.ofSeconds(2), Duration.ofMillis(1));
        if (timeout.compareTo(interval) > 0) {
            n.error("timeout", "must not be longer than interval (" + Values.format(interval) + ")");
        }
        Duration jitter = n.duration("jitter", Duration.ZERO, Duration.ZERO);
        int rise = n.integer("rise", 2, 1, 1000);
        int fall = n.integer("fall", 3, 1, 1000);
        int port = n.integer("port", 0, 0, 65535);
        String initial = n.string("initial_state", "up");
        if (!initial.equals("up") && !initial.equals("down")) {
            n.error("initial_state", "expected up or down, got \"" + initial + "\"");
        }
        boolean closeOnDown = n.bool("close_on_down", false);
        return new HealthCheckConfig(type, method, path, host, status, body, interval, timeout, jitter, rise, fall,
                port, !"down".equals(initial), closeOnDown);
    }

    private static int[] statusRange(String s) {
        String[] parts = s.trim().split("-", -1);
        try {
            int lo = Integer.parseInt(parts[0].trim());
            int hi = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : lo;
            if (parts.length > 2 || lo < 100 || hi > 599 || lo > hi) {
                return null;
            }
            return new int[] {lo, hi};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static StickyCookieConfig readSticky(ConfigNode n) {
        if (n == null) {
            return null;
        }
        String name = n.string("name", "SLUICE_STICKY");
        if (name != null && !name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            n.error("name", "expected a cookie name (letters, digits, - _ . and similar), got \"" + name + "\"");
        }
        Duration ttl = n.duration("ttl", Duration.ZERO, Duration.ZERO);
        String path = n.string("path", "/");
        if (path != null && !path.startsWith("/")) {
            n.error("path", "must start with /, got \"" + path + "\"");
        }
        boolean httpOnly = n.bool("http_only", true);
        boolean secure = n.bool("secure", false);
        String sameSite = n.string("same_site", "lax");
        if (!List.of("lax", "strict", "none").contains(sameSite)) {
            n.error("same_site", "expected lax, strict or none, got \"" + sameSite + "\"");
        } else if (sameSite.equals("none") && !secure) {
            n.error("same_site", "same_site: none needs secure: true (browsers drop the cookie otherwise)");
        }
        return new StickyCookieConfig(name, ttl, path, httpOnly, secure, sameSite);
    }

    private static OutlierDetectionConfig readOutlier(ConfigNode n) {
        if (n == null) {
            return null;
        }
        int consecutive = n.integer("consecutive_failures", 5, 1, 1000);
        Duration base = n.duration("base_ejection_time", Duration.ofSeconds(30), Duration.ofMillis(1));
        Duration max = n.duration("max_ejection_time", Duration.ofMinutes(5), Duration.ofMillis(1));
        if (max.compareTo(base) < 0) {
            n.error("max_ejection_time", "must not be shorter than base_ejection_time");
        }
        int percent = n.integer("max_ejection_percent", 50, 0, 100);
        List<String> failures = n.has("failures") ? n.stringList("failures") : List.of("connect", "5xx");
        boolean connect = false;
        boolean http5xx = false;
        for (String f : failures) {
            switch (f) {
                case "connect" -> connect = true;
                case "5xx" -> http5xx = true;
                default -> n.error("failures", "expected connect or 5xx, got \"" + f + "\"");
            }
        }
        return new OutlierDetectionConfig(consecutive, base, max, percent, connect, http5xx);
    }

    private static boolean isPrime(int n) {
        if (n < 2) {
            return false;
        }
        for (int i = 2; (long) i * i <= n; i++) {
            if (n % i == 0) {
                return false;
            }
        }
        return true;
    }
}
