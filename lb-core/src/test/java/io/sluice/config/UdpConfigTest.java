package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code protocol: udp} listeners, {@code listeners[].udp} and {@code health_check: { type: dns }}. */
class UdpConfigTest {
    private static List<String> errors(String yaml) {
        return catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml)).errors().stream()
                .map(ConfigError::toString).toList();
    }

    @Test
    void readsFlowSettingsAndDefaults() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - name: dns
                    bind: "127.0.0.1:53"
                    protocol: udp
                    cluster: resolvers
                    udp: { idle_timeout: 5s, responses_per_request: 1, max_flows: 1000, max_datagram_size: 1232 }
                  - { name: syslog, bind: "127.0.0.1:514", protocol: udp, cluster: resolvers }
                  - { name: dns-tcp, bind: "127.0.0.1:53", cluster: resolvers }
                clusters:
                  - name: resolvers
                    servers: [ { address: "127.0.0.1:5353" } ]
                    health_check: { type: dns, query: "example.com", query_type: AAAA, expect_rcode: [NOERROR, NXDOMAIN] }
                """);
        UdpConfig dns = c.listeners().get(0).udp();
        assertThat(dns).isEqualTo(new UdpConfig(Duration.ofSeconds(5), 1, 1000, 1232));
        assertThat(c.listeners().get(1).udp()).isEqualTo(UdpConfig.DEFAULT);
        assertThat(UdpConfig.DEFAULT.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(UdpConfig.DEFAULT.responsesPerRequest()).isZero();
        // A full table of io_uring flows (~116 KiB of direct memory each) stays near 1.2 GB.
        assertThat(UdpConfig.DEFAULT.maxFlows()).isEqualTo(10_000);
        assertThat(c.listeners().get(2).udp()).isNull();
        HealthCheckConfig.DnsCheck check = c.clusters().get(0).healthCheck().dns();
        assertThat(check).isEqualTo(new HealthCheckConfig.DnsCheck("example.com", 28, java.util.Set.of(0, 3)));
    }

    @Test
    void whatUdpCannotDoIsRefusedWithKeyAndLine() {
        List<String> errors = errors("""
                listeners:
                  - name: a
                    bind: "0.0.0.0:53"
                    protocol: udp
                    cluster: app
                    max_connections: 10
                    proxy_protocol: { accept: true, trusted: ["10.0.0.0/8"] }
                  - name: b
                    bind: "127.0.0.1:53"
                    protocol: udp
                    cluster: secure
                  - name: c
                    bind: "127.0.0.1:80"
                    cluster: app
                    udp: { max_flows: 3 }
                clusters:
                  - name: app
                    servers: [ { address: "127.0.0.1:5353" } ]
                    health_check: { type: tcp }
                  - name: secure
                    servers: [ { address: "127.0.0.1:5353" } ]
                    tls: { verify: false }
                """);
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].bind (line 3")
                .contains("binds one address"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].max_connections (line 6")
                .contains("not for protocol: udp"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].proxy_protocol (line 7"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].cluster (line 5")
                .contains("tcp health check"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[1].cluster (line 11")
                .contains("has tls"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[2].udp (line 15")
                .contains("only for protocol: udp"));
    }

    @Test
    void dnsChecksNeedAQueryAndTakeNoHttpKeys() {
        List<String> errors = errors("""
                listeners:
                  - { name: a, bind: "127.0.0.1:53", protocol: udp, cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "127.0.0.1:5353" } ]
                    health_check: { type: dns, path: "/", query_type: BOGUS, expect_rcode: [NOPE] }
                  - name: web
                    servers: [ { address: "127.0.0.1:80" } ]
                    health_check: { type: http, query: "example.com" }
                """);
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[0].health_check.query (line 6")
                .contains("required"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[0].health_check.path")
                .contains("not for type: dns"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[0].health_check.query_type"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[0].health_check.expect_rcode"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("clusters[1].health_check.query")
                .contains("only for type: dns"));
    }
}
