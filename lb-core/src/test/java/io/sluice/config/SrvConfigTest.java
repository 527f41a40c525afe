package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** {@code servers[].srv} and {@code runtime.dns_servers}: read, and refused with the key and line. */
class SrvConfigTest {
    private static String cluster(String servers) {
        return """
                listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                clusters:
                  - name: app
                    servers:
                %s""".formatted(servers);
    }

    @Test
    void srvEntriesSitBesideAddresses() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                runtime: { dns_servers: ["10.96.0.10:53", "[fd00::a]:5353"] }
                """ + cluster("""
                      - { address: "10.0.0.1:80" }
                      - { srv: "_http._tcp.app.default.svc.cluster.local" }
                      - { srv: "_http._tcp.other.test.", max_connections: 40 }
                """));
        ClusterConfig app = c.cluster("app");
        assertThat(app.servers()).extracting(ServerConfig::label).containsExactly("10.0.0.1:80");
        // The root's dot is dropped: both spellings are the same name.
        assertThat(app.srv()).containsExactly(new SrvEntry("_http._tcp.app.default.svc.cluster.local", 0),
                new SrvEntry("_http._tcp.other.test", 40));
        assertThat(c.runtime().dnsServers()).containsExactly(new HostPort("10.96.0.10", 53), new HostPort("fd00::a", 5353));
    }

    @Test
    void onlySrvIsAValidCluster() throws Exception {
        SluiceConfig c = ConfigLoader.parse(cluster("      - { srv: _http._tcp.app.test }\n"));
        assertThat(c.cluster("app").servers()).isEmpty();
        assertThat(c.runtime().dnsServers()).isEmpty();
    }

    static Stream<Arguments> badEntries() {
        return Stream.of(
                Arguments.of(cluster("      - { address: \"10.0.0.1:80\", srv: _http._tcp.app.test }\n"),
                        "clusters[0].servers[0].address (line 5, col 20): a server entry has either address or srv"),
                Arguments.of(cluster("      - { srv: _http._tcp.app.test, weight: 3 }\n"),
                        "clusters[0].servers[0].weight (line 5, col 45): a server entry has either address or srv, and an"
                                + " srv entry takes its weights"),
                Arguments.of(cluster("      - { srv: _http._tcp.app.test, max_connections: -1 }\n"),
                        "clusters[0].servers[0].max_connections (line 5, col 54)"),
                Arguments.of(cluster("      - { weight: 3 }\n"),
                        "clusters[0].servers[0].address (line 5, col 9): required: a server entry has either address"),
                Arguments.of(cluster("      - { srv: \"_http._tcp..test\" }\n"),
                        "clusters[0].servers[0].srv (line 5, col 16): expected a DNS name"),
                Arguments.of(cluster("      - { srv: _http._tcp.app.test }\n      - { srv: _http._tcp.app.test. }\n"),
                        "clusters[0].servers[1].srv (line 6, col 16): SRV name _http._tcp.app.test is listed twice"),
                Arguments.of("runtime: { dns_servers: [\"dns.internal:53\"] }\n" + cluster("      - { srv: a.test }\n"),
                        "runtime.dns_servers[0] (line 1, col 26): expected IP:port of a DNS server"),
                Arguments.of("runtime: { dns_servers: [\"10.0.0.53\"] }\n" + cluster("      - { srv: a.test }\n"),
                        "runtime.dns_servers[0] (line 1, col 26): expected IP:port"));
    }

    @ParameterizedTest
    @MethodSource("badEntries")
    void badEntriesNameTheKeyAndLine(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml)).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.errors()).map(ConfigError::toString).anySatisfy(l -> assertThat(l).contains(expected)));
    }

    @Test
    void withServersKeepsEverythingElse() throws Exception {
        ClusterConfig app = ConfigLoader.parse(cluster("      - { srv: _http._tcp.app.test }\n")).cluster("app");
        ClusterConfig more = app.withServers(List.of(new ServerConfig(new HostPort("a.test", 80), 5, true)));
        assertThat(more.withServers(List.of())).isEqualTo(app);
        assertThat(more.srv()).isEqualTo(app.srv());
    }
}
