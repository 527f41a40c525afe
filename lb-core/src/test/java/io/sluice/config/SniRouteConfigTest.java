package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SNI passthrough keys of a tcp listener: routes by sni, tls_peek_timeout, passthrough_require_tls. */
class SniRouteConfigTest {
    private static final String CLUSTERS = """
            clusters:
              - { name: api, servers: [ { address: "127.0.0.1:1" } ] }
              - { name: web, servers: [ { address: "127.0.0.1:2" } ] }
              - { name: rest, servers: [ { address: "127.0.0.1:3" } ], algorithm: ring_hash, hash_key: sni }
            """;

    @Test
    void tcpRoutesBySni() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - name: tls
                    bind: "127.0.0.1:0"
                    cluster: rest
                    tls_peek_timeout: 250ms
                    passthrough_require_tls: true
                    routes:
                      - { match: { sni: "API.example.com" }, cluster: api }
                      - { name: wild, match: { sni: "*.example.com" }, cluster: web }
                """ + CLUSTERS);
        ListenerConfig l = c.listeners().get(0);
        assertThat(l.sniRoutes()).containsExactly(new SniRoute("route-0", "api.example.com", "api"),
                new SniRoute("wild", "*.example.com", "web"));
        assertThat(l.routes()).isEmpty();
        assertThat(l.tlsPeekTimeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(l.passthroughRequireTls()).isTrue();
        assertThat(c.clusters().get(2).balancer().hashKey()).isEqualTo(HashKeyConfig.SNI);
    }

    @Test
    void defaultsWithoutRoutes() throws Exception {
        ListenerConfig l = ConfigLoader.parse("""
                listeners: [ { name: t, bind: "127.0.0.1:0", cluster: api } ]
                """ + CLUSTERS).listeners().get(0);
        assertThat(l.sniRoutes()).isEmpty();
        assertThat(l.tlsPeekTimeout()).isEqualTo(ListenerConfig.DEFAULT_TLS_PEEK_TIMEOUT).isEqualTo(Duration.ofSeconds(5));
        assertThat(l.passthroughRequireTls()).isFalse();
    }

    @Test
    void mistakesAreNamedWithTheirPosition() {
        List<String> errors = errors("""
                listeners:
                  - name: tls
                    bind: "127.0.0.1:0"
                    cluster: api
                    routes:
                      - { match: { sni: "a.example.com", path_prefix: "/x" }, cluster: api }
                      - { match: { sni: "b.example.com" }, cluster: wbe }
                      - { match: { sni: "api.*.com" }, cluster: api }
                      - { match: { sni: "c.example.com" }, cluster: api, prefix_rewrite: "/" }
                      - { name: default, match: { sni: "d.example.com" }, cluster: api }
                      - { match: { sni: "A.example.com" }, cluster: api }
                      - { match: {}, cluster: api }
                      - { cluster: api }
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: api
                    tls_peek_timeout: 1s
                    routes:
                      - { match: { sni: "a.example.com" }, cluster: api }
                      - { match: { host: "a.example.com" }, cluster: rest }
                """ + CLUSTERS);
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[0].match.path_prefix (line 6")
                .contains("only for protocol: http; a tcp listener routes by sni alone"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[1].cluster (line 7")
                .contains("no cluster named \"wbe\"").contains("did you mean \"web\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[2].match.sni (line 8")
                .contains("leading wildcard"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[3].prefix_rewrite (line 9")
                .contains("only for protocol: http"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[4].name (line 10")
                .contains("\"default\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[5].match (line 11")
                .contains("already matches sni \"a.example.com\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[6].match.sni")
                .contains("required"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[0].routes[7].match (line 13")
                .contains("required"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[1].tls_peek_timeout (line 18")
                .contains("only for protocol: tcp"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[1].routes[0].match.sni (line 20")
                .contains("only for protocol: tcp"));
        assertThat(errors).anySatisfy(s -> assertThat(s).startsWith("listeners[1].routes (line")
                .contains("cluster \"rest\" has hash_key: sni"));
    }

    @Test
    void hashKeySniOnAnHttpListenersClusterIsAnError() {
        assertThat(errors("""
                listeners: [ { name: w, bind: "127.0.0.1:0", protocol: http, cluster: rest } ]
                """ + CLUSTERS)).singleElement().asString()
                .startsWith("listeners[0].cluster (line 1").contains("hash_key: sni");
    }

    /** Behind TLS termination the bytes are decrypted: the passthrough keys would refuse every client. */
    @Test
    void passthroughKeysOnATerminatingTcpListenerAreErrors() {
        assertThat(errors("""
                listeners:
                  - { name: t, bind: "127.0.0.1:0", cluster: rest, tls_peek_timeout: 1s, passthrough_require_tls: true,
                      tls: { certificates: [ { cert: /x.pem, key: /x.key } ] } }
                clusters: [ { name: rest, servers: [ { address: "127.0.0.1:1" } ] } ]
                """)).containsExactlyInAnyOrder(
                "listeners[0].tls_peek_timeout (line 2, col 70): is for SNI passthrough, on tcp listeners without tls",
                "listeners[0].passthrough_require_tls (line 2, col 99): is for SNI passthrough, on tcp listeners "
                        + "without tls");
    }

    private static List<String> errors(String yaml) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml));
        assertThat(e).as("config should be refused").isNotNull();
        return e.errors().stream().map(ConfigError::toString).toList();
    }
}
