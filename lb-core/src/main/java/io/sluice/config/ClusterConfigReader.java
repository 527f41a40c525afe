package io.sluice.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads one entry of {@code clusters}: its servers, balancing, health checks, outlier detection and sticky
 * cookie. Kept apart from {@link ConfigLoader} so the cluster keys live in one place.
 */
final class ClusterConfigReader {
    static final Set<String> CLUSTER = ConfigNode.keys("name", "algorithm", "servers", "connect_timeout",
            "connect_retries", "hash_key", "hash_fallback", "virtual_nodes", "maglev_table_size", "ewma_decay",
            "slow_start", "health_check", "outlier_detection", "panic_threshold", "sticky_cookie", "pool", "tls", "protocol",
            "send_proxy_protocol", "queue");
    static final Set<String> SERVER = ConfigNode.keys("address", "weight", "backup", "srv", "max_connections");
    static final Set<String> QUEUE = ConfigNode.keys("max", "timeout");
    static final Set<String> HEALTH = ConfigNode.keys("type", "method", "path", "host", "expect_status",
            "expect_body", "interval", "timeout", "jitter", "rise", "fall", "port", "initial_state", "close_on_down",
            "service", "query", "query_type", "expect_rcode");
    static final Set<String> STICKY = ConfigNode.keys("name", "ttl", "path", "http_only", "secure",
            "same_site");
    static final Set<String> TLS = ConfigNode.keys("enabled", "sni", "verify", "ca", "cert", "key");
    static final Set<String> OUTLIER = ConfigNode.keys("consecutive_failures", "base_ejection_time",
            "max_ejection_time", "max_ejection_percent", "failures");

    private ClusterConfigReader() {
    }

    static ClusterConfig readCluster(ConfigNode n) {
        String name = n.requiredString("name");
        BalancerConfig balancer = readBalancer(n);
        List<ServerConfig> servers = new ArrayList<>();
        List<Node> serverNodes = n.list("servers");
        if (serverNodes.isEmpty()) {
            n.error("servers", "a cluster needs at least one server");
        }
        Set<HostPort> seen = new HashSet<>();
        List<SrvEntry> srv = new ArrayList<>();
        for (int i = 0; i < serverNodes.size(); i++) {
            ConfigNode s = new ConfigNode(n.errorsSink(), n.join("servers") + "[" + i + "]", serverNodes.get(i),
                    SERVER);
            if (s.has("srv")) {
                readSrv(s, srv);
                continue;
            }
            if (!s.has("address")) {
                s.error("address", "required: a server entry has either address (host:port) or srv (a DNS SRV name)");
                continue;
            }
            HostPort address = s.hostPort("address", null, true, false);
            int weight = s.integer("weight", ServerConfig.DEFAULT_WEIGHT, 1, 10_000);
            boolean backup = s.bool("backup", ServerConfig.DEFAULT_BACKUP);
            int maxConnections = s.integer("max_connections", ServerConfig.DEFAULT_MAX_CONNECTIONS, 0, 1_000_000);
            if (address != null) {
                if (!seen.add(address)) {
                    s.error("address", "server " + address + " is listed twice");
                }
                servers.add(new ServerConfig(address, weight, backup, maxConnections));
            }
        }
        Duration connectTimeout = n.duration("connect_timeout", ClusterConfig.DEFAULT_CONNECT_TIMEOUT,
                Duration.ofMillis(1));
        int retries = n.integer("connect_retries", ClusterConfig.DEFAULT_CONNECT_RETRIES, 0, 100);
        HealthCheckConfig health = readHealth(n.map("health_check", HEALTH));
        OutlierDetectionConfig outlier = readOutlier(n.map("outlier_detection", OUTLIER));
        int panic = n.integer("panic_threshold", ClusterConfig.DEFAULT_PANIC_THRESHOLD, 0, 100);
        ConfigNode poolNode = n.map("pool", HttpConfigReader.POOL);
        PoolConfig pool = HttpConfigReader.readPool(poolNode);
        StickyCookieConfig sticky = readSticky(n.map("sticky_cookie", STICKY));
        UpstreamTlsConfig tls = readTls(n.map("tls", TLS));
        UpstreamProtocol protocol = n.choice("protocol", ClusterConfig.DEFAULT_PROTOCOL, UpstreamProtocol.class);
        if (protocol == UpstreamProtocol.H2 && tls == null) {
            // h2 is agreed by ALPN inside TLS; cleartext HTTP/2 is h2c, a separate choice the user should make.
            n.error("protocol", "h2 is HTTP/2 over TLS and needs the cluster's tls section; for cleartext HTTP/2"
                    + " by prior knowledge use h2c");
        } else if (protocol == UpstreamProtocol.H2C && tls != null) {
            n.error("protocol", "h2c is cleartext HTTP/2; over the cluster's tls use h2 (agreed by ALPN)");
        }
        if (protocol == UpstreamProtocol.HTTP1 && !pool.pingInterval().isZero()) {
            poolNode.error("ping_interval", "PING is HTTP/2's; it needs protocol h2 or h2c");
        }
        ProxyProtocolVersion send = n.choice("send_proxy_protocol", ClusterConfig.DEFAULT_SEND_PROXY_PROTOCOL,
                ProxyProtocolVersion.class);
        QueueConfig queue = readQueue(n.map("queue", QUEUE));
        return new ClusterConfig(name, balancer, servers, connectTimeout, retries, health, outlier, panic, pool,
                sticky, tls, protocol, send, srv, queue);
    }

    /**
     * A {@code servers} entry naming a DNS SRV record instead of one address: checked for syntax only (it need
     * not resolve where the config is checked); weight and priority come from the records themselves.
     */
    private static void readSrv(ConfigNode s, List<SrvEntry> srv) {
        for (String key : List.of("address", "weight", "backup")) {
            if (s.has(key)) {
                s.error(key, "a server entry has either address or srv, and an srv entry takes its weights and"
                        + " backups from the SRV records' weight and priority");
            }
        }
        int maxConnections = s.integer("max_connections", ServerConfig.DEFAULT_MAX_CONNECTIONS, 0, 1_000_000);
        String name = s.requiredString("srv");
        if (name == null) {
            return;
        }
        String bare = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!isDnsName(bare)) {
            s.error("srv", "expected a DNS name such as _http._tcp.app.default.svc.cluster.local, got \"" + name + "\"");
        } else if (srv.stream().anyMatch(e -> e.name().equals(bare))) {
            s.error("srv", "SRV name " + bare + " is listed twice");
        } else {
            srv.add(new SrvEntry(bare, maxConnections));
        }
    }

    /** SRV names start with _service._proto; otherwise the rules of a host name. */
    private static boolean isDnsName(String name) {
        return !name.isEmpty() && HostPort.validHostName(name);
    }

    private static QueueConfig readQueue(ConfigNode n) {
        if (n == null) {
            return QueueConfig.DEFAULT;
        }
        return new QueueConfig(n.integer("max", QueueConfig.DEFAULT_MAX, 0, 1_000_000),
                n.duration("timeout", QueueConfig.DEFAULT_TIMEOUT, Duration.ofMillis(1)));
    }

    private static BalancerConfig readBalancer(ConfigNode n) {
        Algorithms algorithms = Algorithms.installed();
        String algorithm = knownAlgorithm(n, "algorithm", BalancerConfig.DEFAULT_ALGORITHM, algorithms);
        HashKeyConfig hashKey = BalancerConfig.DEFAULT_HASH_KEY;
        String hashKeyText = n.string("hash_key", null);
        if (hashKeyText != null) {
            try {
                hashKey = HashKeyConfig.parse(hashKeyText);
            } catch (IllegalArgumentException e) {
                n.error("hash_key", e.getMessage());
            }
        }
        String fallback = knownAlgorithm(n, "hash_fallback", BalancerConfig.DEFAULT_HASH_FALLBACK, algorithms);
        if (fallback != null && algorithms.hashing(fallback)) {
            // The fallback places work that has no key, so it cannot itself need one.
            n.error("hash_fallback", "must be an algorithm that needs no hash key, got \"" + fallback + "\"");
        }
        int virtualNodes = n.integer("virtual_nodes", BalancerConfig.DEFAULT_VIRTUAL_NODES, 1, 10_000);
        int tableSize = n.integer("maglev_table_size", BalancerConfig.DEFAULT_TABLE_SIZE, 7, 10_000_019);
        if (n.has("maglev_table_size") && !isPrime(tableSize)) {
            n.error("maglev_table_size", "must be a prime number (e.g. 65537), got " + tableSize);
        }
        Duration decay = n.duration("ewma_decay", BalancerConfig.DEFAULT_EWMA_DECAY, Duration.ofMillis(1));
        Duration slowStart = n.duration("slow_start", BalancerConfig.DEFAULT_SLOW_START, Duration.ZERO);
        return new BalancerConfig(algorithm, hashKey, fallback, virtualNodes, tableSize, decay, slowStart);
    }

    private static String knownAlgorithm(ConfigNode n, String key, String dflt, Algorithms algorithms) {
        String name = n.string(key, dflt);
        if (name != null && !algorithms.names().contains(name)) {
            n.error(key, "unknown algorithm \"" + name + "\"" + DidYouMean.hint(name, algorithms.names())
                    + " (known: " + String.join(", ", algorithms.names()) + ")");
            return dflt;
        }
        return name;
    }

    private static HealthCheckConfig readHealth(ConfigNode n) {
        if (n == null) {
            return null;
        }
        HealthCheckConfig.Type type = n.choice("type", HealthCheckConfig.DEFAULT_TYPE, HealthCheckConfig.Type.class);
        String method = n.string("method", HealthCheckConfig.DEFAULT_METHOD);
        if (method != null && !Values.isToken(method)) {
            n.error("method", "expected an HTTP method such as GET or HEAD, got \"" + method + "\"");
            method = HealthCheckConfig.DEFAULT_METHOD;
        }
        String path = n.string("path", HealthCheckConfig.DEFAULT_PATH);
        if (path != null && !path.startsWith("/")) {
            n.error("path", "must start with /, got \"" + path + "\"");
        }
        String host = n.string("host", HealthCheckConfig.DEFAULT_HOST);
        List<int[]> status = HealthCheckConfig.DEFAULT_EXPECT_STATUS;
        if (n.has("expect_status")) {
            status = new ArrayList<>();
            for (String s : n.stringList("expect_status")) {
                int[] range = statusRange(s);
                if (range == null) {
                    n.error("expect_status", "expected a status (200) or range (200-399) between 100 and 599, got \""
                            + s + "\"");
                } else {
                    status.add(range);
                }
            }
        }
        String body = n.string("expect_body", HealthCheckConfig.DEFAULT_EXPECT_BODY);
        Duration interval = n.duration("interval", HealthCheckConfig.DEFAULT_INTERVAL, Duration.ofMillis(10));
        Duration timeout = n.duration("timeout", HealthCheckConfig.DEFAULT_TIMEOUT, Duration.ofMillis(1));
        if (timeout.compareTo(interval) > 0) {
            n.error("timeout", "must not be longer than interval (" + Values.format(interval) + ")");
        }
        Duration jitter = n.duration("jitter", HealthCheckConfig.DEFAULT_JITTER, Duration.ZERO);
        int rise = n.integer("rise", HealthCheckConfig.DEFAULT_RISE, 1, 1000);
        int fall = n.integer("fall", HealthCheckConfig.DEFAULT_FALL, 1, 1000);
        int port = n.integer("port", HealthCheckConfig.DEFAULT_PORT, 0, 65535);
        String initial = n.string("initial_state", HealthCheckConfig.DEFAULT_INITIAL_UP ? "up" : "down");
        if (!initial.equals("up") && !initial.equals("down")) {
            n.error("initial_state", "expected up or down, got \"" + initial + "\"");
        }
        boolean initialUp = !initial.equals("down");
        boolean closeOnDown = n.bool("close_on_down", HealthCheckConfig.DEFAULT_CLOSE_ON_DOWN);
        String service = n.string("service", HealthCheckConfig.DEFAULT_SERVICE);
        HealthCheckConfig.DnsCheck dns = DnsCheckReader.read(n, type);
        return new HealthCheckConfig(type, method, path, host, status, body, interval, timeout, jitter, rise, fall,
                port, initialUp, closeOnDown, service, dns);
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
        String name = n.string("name", StickyCookieConfig.DEFAULT_NAME);
        if (name != null && !Values.isToken(name)) {
            n.error("name", "expected a cookie name (letters, digits, - _ . and similar), got \"" + name + "\"");
        }
        Duration ttl = n.duration("ttl", StickyCookieConfig.DEFAULT_TTL, Duration.ZERO);
        String path = n.string("path", StickyCookieConfig.DEFAULT_PATH);
        if (path != null && !path.startsWith("/")) {
            n.error("path", "must start with /, got \"" + path + "\"");
        }
        boolean httpOnly = n.bool("http_only", StickyCookieConfig.DEFAULT_HTTP_ONLY);
        boolean secure = n.bool("secure", StickyCookieConfig.DEFAULT_SECURE);
        String sameSite = n.string("same_site", StickyCookieConfig.DEFAULT_SAME_SITE);
        if (!List.of("lax", "strict", "none").contains(sameSite)) {
            n.error("same_site", "expected lax, strict or none, got \"" + sameSite + "\"");
        } else if (sameSite.equals("none") && !secure) {
            n.error("same_site", "same_site: none needs secure: true (browsers drop the cookie otherwise)");
        }
        return new StickyCookieConfig(name, ttl, path, httpOnly, secure, sameSite);
    }

    /**
     * {@code tls}: on when the section is there (unless {@code enabled: false}). The files are read by the TLS
     * check above the config (sluice check, start, every reload) and when the cluster's TLS context is built, not
     * here: the places of the file keys are kept for that check's errors.
     */
    private static UpstreamTlsConfig readTls(ConfigNode n) {
        if (n == null || !n.bool("enabled", true)) {
            return ClusterConfig.DEFAULT_TLS;
        }
        String sni = n.string("sni", "auto");
        if (sni != null && !sni.equals("auto") && !Values.isHostName(sni)) {
            n.error("sni", "expected a host name such as api.example.com, or auto, got \"" + sni + "\" (SNI carries"
                    + " no IP addresses: with auto, a server given by IP address is verified against that address)");
        }
        boolean verify = n.bool("verify", UpstreamTlsConfig.DEFAULT_VERIFY);
        Path ca = path(n, "ca");
        Path cert = path(n, "cert");
        Path key = path(n, "key");
        if (n.has("cert") && !n.has("key")) {
            n.error("cert", "a client certificate needs its private key: add key");
        } else if (n.has("key") && !n.has("cert")) {
            n.error("key", "a private key needs its certificate: add cert");
        }
        return new UpstreamTlsConfig(sni == null || sni.equals("auto") ? null : sni, verify, ca, cert, key,
                TlsConfigReader.located(n, "ca"), TlsConfigReader.located(n, "cert"), TlsConfigReader.located(n, "key"));
    }

    private static Path path(ConfigNode n, String key) {
        String s = n.string(key, null);
        if (s != null && s.isBlank()) {
            n.error(key, "must not be empty");
            return null;
        }
        return s == null ? null : Path.of(s);
    }

    private static OutlierDetectionConfig readOutlier(ConfigNode n) {
        if (n == null) {
            return null;
        }
        int consecutive = n.integer("consecutive_failures", OutlierDetectionConfig.DEFAULT_CONSECUTIVE_FAILURES, 1,
                1000);
        Duration base = n.duration("base_ejection_time", OutlierDetectionConfig.DEFAULT_BASE_EJECTION_TIME,
                Duration.ofMillis(1));
        Duration max = n.duration("max_ejection_time", OutlierDetectionConfig.DEFAULT_MAX_EJECTION_TIME,
                Duration.ofMillis(1));
        if (max.compareTo(base) < 0) {
            n.error("max_ejection_time", "must not be shorter than base_ejection_time");
        }
        int percent = n.integer("max_ejection_percent", OutlierDetectionConfig.DEFAULT_MAX_EJECTION_PERCENT, 0, 100);
        if (!n.has("failures")) {
            return new OutlierDetectionConfig(consecutive, base, max, percent,
                    OutlierDetectionConfig.DEFAULT_ON_CONNECT_FAILURE, OutlierDetectionConfig.DEFAULT_ON_5XX);
        }
        boolean connect = false;
        boolean http5xx = false;
        for (String f : n.stringList("failures")) {
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
