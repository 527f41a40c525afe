package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code listeners[].proxy_protocol}: accept, trusted blocks, timeout, and what is refused. */
class ProxyProtocolConfigTest {
    private static final String CLUSTERS = """
            clusters:
              - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
            """;

    @Test
    void readsAcceptTrustedAndTimeout() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - name: a
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol: { accept: true, trusted: ["127.0.0.1/32", "10.0.0.0/8", "::1"] }
                  - name: b
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    proxy_protocol: { accept: optional, trusted: ["192.168.1.7"], timeout: 200ms }
                  - name: c
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol: { accept: false }
                  - name: d
                    bind: "127.0.0.1:0"
                    cluster: app
                """ + CLUSTERS);
        ProxyProtocolConfig a = c.listeners().get(0).proxyProtocol();
        assertThat(a.accept()).isEqualTo(ProxyProtocolConfig.Accept.TRUE);
        assertThat(a.timeout()).isEqualTo(ProxyProtocolConfig.DEFAULT_TIMEOUT);
        assertThat(a.trusted()).extracting(Cidr::toString).containsExactly("127.0.0.1/32", "10.0.0.0/8", "0:0:0:0:0:0:0:1/128");
        assertThat(a.trusts(InetAddress.getByName("10.200.3.4"))).isTrue();
        assertThat(a.trusts(InetAddress.getByName("11.0.0.1"))).isFalse();
        assertThat(a.trusts(InetAddress.getByName("::1"))).isTrue();
        ProxyProtocolConfig b = c.listeners().get(1).proxyProtocol();
        assertThat(b.accept()).isEqualTo(ProxyProtocolConfig.Accept.OPTIONAL);
        assertThat(b.timeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(c.listeners().get(2).proxyProtocol()).isNull();
        assertThat(c.listeners().get(3).proxyProtocol()).isEqualTo(ListenerConfig.DEFAULT_PROXY_PROTOCOL).isNull();
    }

    @Test
    void cidrMasksHostBits() {
        assertThat(Cidr.parse("10.1.2.3/8")).hasToString("10.0.0.0/8");
        assertThat(Cidr.parse("2001:db8::1/32")).hasToString("2001:db8:0:0:0:0:0:0/32");
        assertThat(Cidr.parse("10.0.0.0/33")).isNull();
        assertThat(Cidr.parse("example.com/8")).isNull();
        assertThat(Cidr.parse("10.0.0.0/x")).isNull();
    }

    @Test
    void errorsNameKeyAndLine() {
        List<String> errors = errors("""
                listeners:
                  - name: a
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol: { accept: yes, trusted: ["10.0.0.0/8"] }
                  - name: b
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol: { accept: true }
                  - name: c
                    bind: "127.0.0.1:0"
                    cluster: app
                    proxy_protocol:
                      accept: optional
                      trusted: ["10.0.0.0/8", "lb.example.com", "10.0.0.0/40"]
                      tls: true
                """ + CLUSTERS);
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].proxy_protocol.accept (line 5")
                .contains("expected true, optional or false"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[1].proxy_protocol.trusted (line 9")
                .contains("required with accept: true"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[2].proxy_protocol.trusted[1] (line 15")
                .contains("lb.example.com"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[2].proxy_protocol.trusted[2] (line 15")
                .contains("10.0.0.0/40"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[2].proxy_protocol.tls (line 16"));
    }

    @Test
    void sendProxyProtocolOnTcpClusters() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - { name: a, bind: "127.0.0.1:0", cluster: v1 }
                  - { name: b, bind: "127.0.0.1:0", cluster: v2 }
                clusters:
                  - { name: v1, send_proxy_protocol: v1, servers: [ { address: "127.0.0.1:1" } ] }
                  - { name: v2, send_proxy_protocol: v2, servers: [ { address: "127.0.0.1:2" } ] }
                  - { name: none, servers: [ { address: "127.0.0.1:3" } ] }
                """);
        assertThat(c.clusters()).extracting(ClusterConfig::sendProxyProtocol)
                .containsExactly(ProxyProtocolVersion.V1, ProxyProtocolVersion.V2, null);
        assertThat(ClusterConfig.DEFAULT_SEND_PROXY_PROTOCOL).isNull();
    }

    @Test
    void sendProxyProtocolOnHttpListeners() throws Exception {
        // Each client connection gets server connections of its own, so one header never names two clients.
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                  - name: routed
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: plain
                    routes: [ { match: { path_prefix: "/x" }, cluster: app } ]
                clusters:
                  - { name: app, send_proxy_protocol: v2, servers: [ { address: "127.0.0.1:1" } ] }
                  - { name: plain, protocol: h2c, send_proxy_protocol: v1, servers: [ { address: "127.0.0.1:2" } ] }
                """);
        assertThat(c.clusters()).extracting(ClusterConfig::sendProxyProtocol)
                .containsExactly(ProxyProtocolVersion.V2, ProxyProtocolVersion.V1);
    }

    @Test
    void sendProxyProtocolWhereItCannotBeSent() {
        List<String> errors = errors("""
                runtime: { transport: epoll }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                  - name: routed
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: plain
                    routes: [ { match: { path_prefix: "/x" }, cluster: app } ]
                  - { name: spliced, bind: "127.0.0.1:0", cluster: app, splice: true }
                clusters:
                  - { name: app, send_proxy_protocol: v2, servers: [ { address: "127.0.0.1:1" } ] }
                  - { name: plain, servers: [ { address: "127.0.0.1:2" } ] }
                  - name: secure
                    send_proxy_protocol: v3
                    servers: [ { address: "127.0.0.1:3" } ]
                  - name: tls
                    send_proxy_protocol: v1
                    tls: {}
                    servers: [ { address: "127.0.0.1:4" } ]
                """);
        assertThat(errors).noneSatisfy(s -> assertThat(s).startsWith("listeners[0]"));
        assertThat(errors).noneSatisfy(s -> assertThat(s).startsWith("listeners[1]"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[2].splice (line 9")
                .contains("spliced relay"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[2].send_proxy_protocol (line 14")
                .contains("v1, v2"));
        // Over TLS the header goes before the ClientHello (ProxyProtocolSendTlsTest).
        assertThat(errors).noneSatisfy(s -> assertThat(s).startsWith("clusters[3]"));
    }

    private static List<String> errors(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml));
        assertThat(e).as("config should be refused").isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }
}
