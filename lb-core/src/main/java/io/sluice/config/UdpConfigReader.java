package io.sluice.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads {@code listeners[].udp} and holds a {@code protocol: udp} listener to what UDP can do. */
final class UdpConfigReader {
    static final Set<String> UDP = ConfigNode.keys("idle_timeout", "responses_per_request", "max_flows",
            "max_datagram_size");

    /** Listener keys that mean nothing without a connection or a byte stream. */
    private static final List<String> STREAM_ONLY = List.of("tls", "http", "http2", "routes", "splice",
            "proxy_protocol", "tls_peek_timeout", "passthrough_require_tls", "max_connections", "backlog", "idle_timeout");

    private UdpConfigReader() {
    }

    /** The listener's udp settings: defaults when absent; null (and an error if set) on a tcp or http listener. */
    static UdpConfig read(ConfigNode listener, ListenerConfig.Protocol protocol) {
        ConfigNode n = listener.map("udp", UDP);
        if (protocol != ListenerConfig.Protocol.UDP) {
            if (n != null) {
                listener.error("udp", "only for protocol: udp");
            }
            return null;
        }
        for (String key : STREAM_ONLY) {
            if (listener.has(key)) {
                listener.error(key, "not for protocol: udp" + (key.equals("idle_timeout")
                        ? " (use udp.idle_timeout)" : ""));
            }
        }
        if (n == null) {
            return UdpConfig.DEFAULT;
        }
        Duration idle = n.duration("idle_timeout", UdpConfig.DEFAULT_IDLE_TIMEOUT, Duration.ofMillis(1));
        int responses = n.integer("responses_per_request", UdpConfig.DEFAULT_RESPONSES_PER_REQUEST, 0, 1_000_000);
        int maxFlows = n.integer("max_flows", UdpConfig.DEFAULT_MAX_FLOWS, 1, 10_000_000);
        int maxSize = n.integer("max_datagram_size", UdpConfig.DEFAULT_MAX_DATAGRAM_SIZE, 512, 65535);
        return new UdpConfig(idle, responses, maxFlows, maxSize);
    }

    /**
     * A wildcard bind would answer from whichever address the kernel picks for the route, not the one the client
     * sent to (netty#10823), and clients drop such replies: each address is bound on its own instead.
     */
    static void checkBind(ConfigNode listener, ListenerConfig config) {
        if (config.protocol() == ListenerConfig.Protocol.UDP && config.bind() != null && config.bind().isWildcard()) {
            listener.error("bind", "a udp listener binds one address (replies must leave from the address the client "
                    + "sent to): use a listener per address, e.g. \"192.0.2.10:" + config.bind().port() + "\", not "
                    + config.bind().host());
        }
    }

    /** A udp listener's cluster: no TLS or PROXY header to send, and health checks that can reach a UDP server. */
    static void checkCluster(ConfigNode listener, ListenerConfig config, Map<String, ClusterConfig> clusters) {
        if (config.protocol() != ListenerConfig.Protocol.UDP) {
            return;
        }
        ClusterConfig cc = clusters.get(config.cluster());
        if (cc == null) {
            return;
        }
        String name = "cluster \"" + cc.name() + "\"";
        if (cc.tls() != null) {
            listener.error("cluster", name + " has tls, which a udp listener cannot speak (no DTLS)");
        }
        if (cc.sendProxyProtocol() != null) {
            listener.error("cluster", name + " has send_proxy_protocol, which is for tcp listeners only");
        }
        if (cc.healthCheck() != null && cc.healthCheck().type() != HealthCheckConfig.Type.DNS) {
            listener.error("cluster", name + " has a " + cc.healthCheck().type().name().toLowerCase(java.util.Locale.ROOT)
                    + " health check, which cannot see a UDP server: use health_check: { type: dns, query: ... }");
        }
    }
}
