package io.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * A named group of servers and how to spread work across them.
 *
 * @param connectRetries  how many other servers are tried after a connect failure, before giving up
 * @param healthCheck     active checks, or null for none
 * @param outlierDetection passive ejection on live failures, or null for none
 * @param panicThreshold  percent of servers that must be available; below it every server takes traffic
 * @param stickyCookie    HTTP session affinity through a cookie Sluice sets, or null for none
 * @param pool            backend connection pool for HTTP listeners
 * @param tls             TLS to the servers, or null for plain connections
 * @param protocol        what HTTP listeners speak to the servers (TCP listeners relay bytes whatever it is)
 * @param sendProxyProtocol a PROXY protocol header naming the client opens each relayed connection; null: none
 * @param srv             DNS SRV entries whose targets join {@code servers} while running (each target:port a server)
 * @param queue           where work waits while every eligible server is at its {@code max_connections}
 */
public record ClusterConfig(String name, BalancerConfig balancer, List<ServerConfig> servers,
                            Duration connectTimeout, int connectRetries, HealthCheckConfig healthCheck,
                            OutlierDetectionConfig outlierDetection, int panicThreshold,
                            PoolConfig pool, StickyCookieConfig stickyCookie, UpstreamTlsConfig tls,
                            UpstreamProtocol protocol, ProxyProtocolVersion sendProxyProtocol,
                            List<SrvEntry> srv, QueueConfig queue) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_CONNECT_RETRIES = 2;
    public static final int DEFAULT_PANIC_THRESHOLD = 50;
    /** No header: servers see Sluice as the client. */
    public static final ProxyProtocolVersion DEFAULT_SEND_PROXY_PROTOCOL = null;
    /** Plain connections to the servers. */
    public static final UpstreamTlsConfig DEFAULT_TLS = null;
    public static final UpstreamProtocol DEFAULT_PROTOCOL = UpstreamProtocol.HTTP1;

    public ClusterConfig {
        servers = List.copyOf(servers);
        srv = List.copyOf(srv);
    }

    /** The same cluster with another server list: the configured servers plus those SRV records name. */
    public ClusterConfig withServers(List<ServerConfig> next) {
        return new ClusterConfig(name, balancer, next, connectTimeout, connectRetries, healthCheck, outlierDetection,
                panicThreshold, pool, stickyCookie, tls, protocol, sendProxyProtocol, srv, queue);
    }

    public ClusterConfig(String name, BalancerConfig balancer, List<ServerConfig> servers,
                         Duration connectTimeout, int connectRetries, HealthCheckConfig healthCheck,
                         OutlierDetectionConfig outlierDetection, int panicThreshold,
                         PoolConfig pool, StickyCookieConfig stickyCookie, UpstreamTlsConfig tls,
                         UpstreamProtocol protocol, ProxyProtocolVersion sendProxyProtocol) {
        this(name, balancer, servers, connectTimeout, connectRetries, healthCheck, outlierDetection, panicThreshold,
                pool, stickyCookie, tls, protocol, sendProxyProtocol, List.of(), QueueConfig.DEFAULT);
    }

    /** The SRV names, in the order configured. */
    public List<String> srvNames() {
        return srv.stream().map(SrvEntry::name).toList();
    }

    public String algorithm() {
        return balancer.algorithm();
    }
}
