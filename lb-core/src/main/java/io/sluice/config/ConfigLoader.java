package io.sluice.config;

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
            "dns_refresh", "watch_config", "dns_servers", "log_format", "log_level", "tcp_relay",
            "http_front");
    private static final Set<String> ADMIN = ConfigNode.keys("enabled", "bind", "token_file", "protect_reads");
    private static final Set<String> LISTENER = ConfigNode.keys("name", "bind", "protocol", "cluster",
            "idle_timeout", "max_connections", "backlog", "http", "http2", "routes", "splice", "tls",
            "tls_peek_timeout", "passthrough_require_tls", "proxy_protocol", "udp", "limits");

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
        m.put("listeners[].tls", TlsConfigReader.TLS);
        m.put("listeners[].tls.certificates[]", TlsConfigReader.CERTIFICATE);
        m.put("listeners[].http2", HttpConfigReader.HTTP2);
        m.put("listeners[].proxy_protocol", ProxyProtocolReader.PROXY_PROTOCOL);
        m.put("listeners[].udp", UdpConfigReader.UDP);
        m.put("listeners[].limits", ClientLimitsReader.LIMITS);
        m.put("listeners[].routes[]", HttpConfigReader.ROUTE);
        m.put("listeners[].routes[].match", HttpConfigReader.MATCH);
        m.put("listeners[].routes[].match.header", HttpConfigReader.HEADER_MATCH);
        m.put("listeners[].routes[].request_headers", HttpConfigReader.HEADER_RULES);
        m.put("listeners[].routes[].response_headers", HttpConfigReader.HEADER_RULES);
        m.put("clusters[]", ClusterConfigReader.CLUSTER);
        m.put("clusters[].servers[]", ClusterConfigReader.SERVER);
        m.put("clusters[].health_check", ClusterConfigReader.HEALTH);
        m.put("clusters[].outlier_detection", ClusterConfigReader.OUTLIER);
        m.put("clusters[].sticky_cookie", ClusterConfigReader.STICKY);
        m.put("clusters[].pool", HttpConfigReader.POOL);
        m.put("clusters[].tls", ClusterConfigReader.TLS);
        return m;
    }

    public static SluiceConfig load(Path file) throws ConfigException, IOException {
        if (Files.size(file) > MAX_FILE_CHARS) {
            throw new ConfigException(List.of(new ConfigError("", 0, 0,
                    "file is larger than " + MAX_FILE_CHARS / (1024 * 1024) + " MiB")));
        }
        return parse(Files.readAllBytes(file));
    }

    /** A config file's bytes: UTF-8, checked strictly. */
    public static SluiceConfig parse(byte[] bytes) throws ConfigException, IOException {
        if (bytes.length > MAX_FILE_CHARS) {
            throw new ConfigException(List.of(new ConfigError("", 0, 0,
                    "file is larger than " + MAX_FILE_CHARS / (1024 * 1024) + " MiB")));
        }
        return load(new StringReader(utf8(bytes)));
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
        Map<String, ClusterConfig> clustersByName = new HashMap<>();
        for (int i = 0; i < clusterNodes.size(); i++) {
            ConfigNode c = new ConfigNode(errors, "clusters[" + i + "]", clusterNodes.get(i),
                    ClusterConfigReader.CLUSTER);
            ClusterConfig cluster = ClusterConfigReader.readCluster(c);
            if (cluster.name() != null && clusterNames.putIfAbsent(cluster.name(), c.node()) != null) {
                c.error("name", "duplicate cluster name \"" + cluster.name() + "\"");
            }
            clusters.add(cluster);
            clustersByName.putIfAbsent(cluster.name(), cluster);
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
                    .add(new BoundSocket("admin.bind", admin.bind(), false));
        }
        for (int i = 0; i < listenerNodes.size(); i++) {
            ConfigNode l = new ConfigNode(errors, "listeners[" + i + "]", listenerNodes.get(i), LISTENER);
            ListenerConfig listener = readListener(l, clusterNames.keySet(), runtime.transport());
            SniRouteReader.checkSniHashing(l, listener, clustersByName);
            if (listener.splice()) {
                for (String routed : SniRouteReader.clustersOf(listener)) {
                    ClusterConfig cc = clustersByName.get(routed);
                    if (cc != null && cc.tls() != null) {
                        // splice(2) moves bytes kernel to kernel: nothing in between could encrypt them.
                        l.error("splice", "cluster \"" + routed + "\" has tls: a spliced relay cannot encrypt;"
                                + " use splice: false");
                    }
                }
            }
            checkSendProxyProtocol(l, listener, clustersByName);
            UdpConfigReader.checkBind(l, listener);
            UdpConfigReader.checkCluster(l, listener, clustersByName);
            if (listener.name() != null && !listenerNames.add(listener.name())) {
                l.error("name", "duplicate listener name \"" + listener.name() + "\"");
            }
            if (listener.bind() != null && listener.bind().port() != 0) {
                List<BoundSocket> same = bound.computeIfAbsent(listener.bind().port(), p -> new ArrayList<>());
                for (BoundSocket other : same) {
                    if (other.clashes(listener)) {
                        l.error("bind", "port " + listener.bind().port() + " is already bound by " + other.owner()
                                + " (" + other.address() + ")");
                        break;
                    }
                }
                same.add(new BoundSocket("listeners[" + i + "].bind", listener.bind(),
                        listener.protocol() == ListenerConfig.Protocol.UDP));
            }
            listeners.add(listener);
        }
        return new SluiceConfig(runtime, admin, listeners, clusters);
    }

    /**
     * A PROXY header names one client for the whole server connection, and a spliced relay writes nothing of its
     * own: refused rather than relaying without the header. (HTTP listeners keep such a cluster's connections
     * private to each client connection, so a header never names the wrong client.)
     */
    private static void checkSendProxyProtocol(ConfigNode l, ListenerConfig listener,
                                               Map<String, ClusterConfig> clustersByName) {
        List<String> used = new ArrayList<>(SniRouteReader.clustersOf(listener));
        listener.routes().forEach(r -> used.add(r.cluster()));
        for (String name : used) {
            ClusterConfig cc = clustersByName.get(name);
            if (cc == null || cc.sendProxyProtocol() == null) {
                continue;
            }
            if (listener.protocol() != ListenerConfig.Protocol.HTTP && listener.splice()) {
                l.error("splice", "cluster \"" + name + "\" has send_proxy_protocol: a spliced relay cannot send it;"
                        + " use splice: false");
            }
        }
    }

    /** A TCP and a UDP socket may share an address and port (DNS on 53 serves both). */
    private record BoundSocket(String owner, HostPort address, boolean udp) {
        boolean clashes(ListenerConfig listener) {
            HostPort other = listener.bind();
            return udp == (listener.protocol() == ListenerConfig.Protocol.UDP)
                    && (address.isWildcard() || other.isWildcard() || address.host().equals(other.host()));
        }
    }

    private static RuntimeConfig readRuntime(ConfigNode n) {
        if (n == null) {
            return RuntimeConfig.DEFAULT;
        }
        return new RuntimeConfig(
                n.choice("transport", RuntimeConfig.DEFAULT_TRANSPORT, TransportKind.class),
                n.integer("worker_threads", RuntimeConfig.DEFAULT_WORKER_THREADS, 0, 1024),
                n.duration("drain_timeout", RuntimeConfig.DEFAULT_DRAIN_TIMEOUT, Duration.ZERO),
                n.duration("dns_refresh", RuntimeConfig.DEFAULT_DNS_REFRESH, Duration.ofSeconds(1)),
                n.bool("watch_config", RuntimeConfig.DEFAULT_WATCH_CONFIG),
                readDnsServers(n),
                n.choice("log_format", RuntimeConfig.DEFAULT_LOG_FORMAT, LogFormat.class),
                n.choice("log_level", LogLevel.byDefault(), LogLevel.class),
                n.choice("tcp_relay", RuntimeConfig.DEFAULT_TCP_RELAY, TcpRelay.class),
                n.choice("http_front", RuntimeConfig.DEFAULT_HTTP_FRONT, HttpFront.class));
    }

    /** {@code runtime.dns_servers}: IP:port each; a name here would need a resolver to find the resolver. */
    private static List<HostPort> readDnsServers(ConfigNode n) {
        List<HostPort> out = new ArrayList<>();
        List<Node> items = n.list("dns_servers");
        for (int i = 0; i < items.size(); i++) {
            String path = n.join("dns_servers") + "[" + i + "]";
            HostPort hp = items.get(i) instanceof org.yaml.snakeyaml.nodes.ScalarNode s ? HostPort.parse(s.getValue()) : null;
            if (hp == null || hp.port() == 0 || !hp.isLiteral()) {
                n.errorsSink().add(path, items.get(i), "expected IP:port of a DNS server (IPv6 as [addr]:port), got "
                        + ConfigNode.describe(items.get(i)));
            } else {
                out.add(hp);
            }
        }
        return out;
    }

    private static AdminConfig readAdmin(ConfigNode n) {
        if (n == null) {
            return AdminConfig.DEFAULT;
        }
        boolean enabled = n.bool("enabled", AdminConfig.DEFAULT_ENABLED);
        HostPort bind = bindAddress(n, "bind", AdminConfig.DEFAULT_BIND, false);
        String tokenFile = n.string("token_file", null);
        Path token = null;
        if (tokenFile != null) {
            // Read when the endpoint starts (and at each reload), not here: a config is checked on one machine
            // and run on another, where the secret is mounted.
            token = Path.of(tokenFile);
        }
        boolean protectReads = n.bool("protect_reads", AdminConfig.DEFAULT_PROTECT_READS);
        AdminConfig admin = new AdminConfig(enabled, bind, token, protectReads);
        if (enabled && token == null && !admin.loopback()) {
            // The admin API can drain and disable servers and reload the config: never open to a network
            // without a secret.
            n.error("bind", "an admin endpoint on " + bind + " (not loopback) needs admin.token_file");
        }
        if (protectReads && token == null) {
            n.error("protect_reads", "needs admin.token_file");
        }
        return admin;
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
        ListenerConfig.Protocol protocol = n.choice("protocol", ListenerConfig.DEFAULT_PROTOCOL,
                ListenerConfig.Protocol.class);
        String cluster = n.requiredString("cluster");
        if (cluster != null && !clusterNames.contains(cluster)) {
            n.error("cluster", "no cluster named \"" + cluster + "\"" + DidYouMean.hint(cluster, clusterNames));
        }
        Duration idle = n.duration("idle_timeout", ListenerConfig.DEFAULT_IDLE_TIMEOUT, Duration.ZERO);
        int maxConnections = n.integer("max_connections", ListenerConfig.DEFAULT_MAX_CONNECTIONS, 0, 10_000_000);
        int backlog = n.integer("backlog", ListenerConfig.DEFAULT_BACKLOG, 1, 65535);
        ConfigNode httpNode = n.map("http", HttpConfigReader.HTTP);
        HttpConfig http = HttpConfigReader.readHttp(httpNode);
        Http2Config http2 = HttpConfigReader.readHttp2(n.map("http2", HttpConfigReader.HTTP2));
        boolean tcp = protocol == ListenerConfig.Protocol.TCP;
        boolean udp = protocol == ListenerConfig.Protocol.UDP;
        UdpConfig udpConfig = UdpConfigReader.read(n, protocol);
        if (udp) {
            // Every stream-only key is refused by UdpConfigReader; of the rest only limits applies to datagrams.
            return new ListenerConfig(name, bind, protocol, cluster, udpConfig.idleTimeout(), 0,
                    ListenerConfig.DEFAULT_BACKLOG, HttpConfig.DEFAULT, List.of(), false, null, List.of(),
                    ListenerConfig.DEFAULT_TLS_PEEK_TIMEOUT, false, Http2Config.DEFAULT, null, udpConfig,
                    ClientLimitsReader.read(n));
        }
        List<RouteConfig> routes = tcp ? List.of() : HttpConfigReader.readRoutes(n, clusterNames);
        // On a tcp listener, routes match the SNI of the ClientHello it passes through (SNI passthrough).
        List<SniRoute> sniRoutes = tcp ? SniRouteReader.read(n, clusterNames) : List.of();
        Duration peekTimeout = n.duration("tls_peek_timeout", ListenerConfig.DEFAULT_TLS_PEEK_TIMEOUT,
                Duration.ofMillis(1));
        boolean requireTls = n.bool("passthrough_require_tls", ListenerConfig.DEFAULT_PASSTHROUGH_REQUIRE_TLS);
        if (!tcp) {
            for (String key : List.of("tls_peek_timeout", "passthrough_require_tls")) {
                if (n.has(key)) {
                    n.error(key, "only for protocol: tcp (SNI passthrough)");
                }
            }
        }
        for (String key : List.of("http", "http2")) {
            if (tcp && n.has(key)) {
                n.error(key, "only for protocol: http");
            }
        }
        if (tcp && n.has("tls")) {
            // Behind TLS termination the bytes are decrypted: there is no ClientHello left to read.
            if (!sniRoutes.isEmpty()) {
                n.error("routes", "routes by SNI are for tcp listeners without tls (the ClientHello passes through)");
            }
            for (String key : List.of("tls_peek_timeout", "passthrough_require_tls")) {
                if (n.has(key)) {
                    n.error(key, "is for SNI passthrough, on tcp listeners without tls");
                }
            }
        }
        boolean splice = n.bool("splice", ListenerConfig.DEFAULT_SPLICE);
        if (splice && protocol != ListenerConfig.Protocol.TCP) {
            n.error("splice", "only for protocol: tcp (an HTTP listener has to read the bytes it forwards)");
        } else if (splice && transport != TransportKind.EPOLL) {
            // splice(2) waits on epoll readiness; io_uring and NIO event loops cannot drive it.
            n.error("splice", "needs runtime.transport: epoll, got " + transport.name().toLowerCase(Locale.ROOT));
        }
        TlsConfig tls = TlsConfigReader.read(n, protocol, splice);
        if (httpNode != null && tls != null && http.redirectHttps()) {
            httpNode.error("redirect_https", "is for the plain listener beside a TLS one; this listener has tls");
        }
        if (httpNode != null && tls == null && http.hsts() != null) {
            // Browsers ignore the header over plain HTTP (RFC 6797 8.1): a setting that would do nothing.
            httpNode.error("hsts", "needs tls on this listener: browsers ignore Strict-Transport-Security over "
                    + "plain HTTP");
        }
        ProxyProtocolConfig proxyProtocol = ProxyProtocolReader.read(n);
        if (proxyProtocol != null && splice) {
            n.error("proxy_protocol", "not with splice: true (the header has to be read before the sockets are joined)");
        }
        ClientLimitsConfig limits = ClientLimitsReader.read(n);
        return new ListenerConfig(name, bind, protocol, cluster, idle, maxConnections, backlog, http, routes,
                splice, tls, sniRoutes, peekTimeout, requireTls, http2, proxyProtocol, udpConfig, limits);
    }
}
