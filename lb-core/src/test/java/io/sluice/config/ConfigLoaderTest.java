package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private static final String CLUSTERS = """
            clusters:
              - name: app
                servers:
                  - { address: "127.0.0.1:9001" }
            """;

    @Test
    void issueExampleParsesWithDefaults() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                admin: { bind: "127.0.0.1:9901" }
                listeners:
                  - { name: mail, bind: "0.0.0.0:2525", protocol: tcp, cluster: smtp }
                clusters:
                  - name: smtp
                    algorithm: round_robin
                    servers:
                      - { address: "10.0.0.11:25", weight: 2 }
                      - { address: "mail2.internal:25" }
                """);
        assertThat(c.listeners()).singleElement().satisfies(l -> {
            assertThat(l.bind()).isEqualTo(new HostPort("0.0.0.0", 2525));
            assertThat(l.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
            assertThat(l.maxConnections()).isZero();
        });
        ClusterConfig smtp = c.cluster("smtp");
        assertThat(smtp.servers()).extracting(ServerConfig::weight).containsExactly(2, 1);
        assertThat(smtp.servers().get(1).address()).isEqualTo(new HostPort("mail2.internal", 25));
        assertThat(smtp.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(smtp.connectRetries()).isEqualTo(2);
        assertThat(c.runtime()).isEqualTo(RuntimeConfig.DEFAULT);
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers:
                              - { address: "10.0.0.1:80" }
                              - { address: "10.0.0.2" }
                        """, "clusters[0].servers[1].address (line 6, col 20): expected host:port"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, idle_timout: 1s } ]
                        """ + CLUSTERS,
                        "listeners[0].idle_timout (line 1, col 60): unknown key; did you mean \"idle_timeout\"?"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: ap } ]
                        """ + CLUSTERS, "listeners[0].cluster (line 1, col 55): no cluster named \"ap\"; did you mean \"app\"?"),
                Arguments.of("""
                        listeners:
                          - { name: a, bind: "0.0.0.0:8080", cluster: app }
                          - { name: b, bind: "127.0.0.1:8080", cluster: app }
                        """ + CLUSTERS, "listeners[1].bind (line 3, col 22): port 8080 is already bound by listeners[0].bind"),
                Arguments.of("""
                        admin: { bind: "127.0.0.1:9901" }
                        listeners: [ { name: a, bind: "127.0.0.1:9901", cluster: app } ]
                        """ + CLUSTERS, "listeners[0].bind (line 2, col 31): port 9901 is already bound by admin.bind"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, idle_timeout: 30 } ]
                        """ + CLUSTERS, "listeners[0].idle_timeout (line 1, col 74): expected a duration such as 500ms, 2s, 1m or 1h, got \"30\""),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            algorithm: round_robbin
                            servers: [ { address: "127.0.0.1:9001" } ]
                        """, "clusters[0].algorithm (line 4, col 16): unknown algorithm \"round_robbin\"; did you mean \"round_robin\"?"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: [ { address: "127.0.0.1:9001", weight: 0 } ]
                        """, "clusters[0].servers[0].weight (line 4, col 53): must be between 1 and 10000, got 0"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: []
                        """, "clusters[0].servers (line 4, col 14): a cluster needs at least one server"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: [ { address: "127.0.0.1:9001" } ]
                          - name: app
                            servers: [ { address: "127.0.0.1:9002" } ]
                        """, "clusters[1].name (line 5, col 11): duplicate cluster name \"app\""),
                Arguments.of("""
                        listeners: [ { name: a, bind: "db.internal:5432", cluster: app } ]
                        """ + CLUSTERS, "listeners[0].bind (line 1, col 31): bind to an IP address"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, max_connections: lots } ]
                        """ + CLUSTERS, "listeners[0].max_connections (line 1, col 77): expected a whole number, got \"lots\""),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, protocol: sctp } ]
                        """ + CLUSTERS, "listeners[0].protocol (line 1, col 70): expected one of tcp, http, udp, got \"sctp\""),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, splice: true } ]
                        """ + CLUSTERS, "listeners[0].splice (line 1, col 68): needs runtime.transport: epoll, got auto"),
                Arguments.of("""
                        runtime: { transport: epoll }
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, protocol: http, splice: true } ]
                        """ + CLUSTERS, "listeners[0].splice (line 2, col 84): only for protocol: tcp"),
                Arguments.of("""
                        runtime: { transport: epoll }
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app, splice: yes please } ]
                        """ + CLUSTERS, "listeners[0].splice (line 2, col 68): expected true or false"),
                Arguments.of("""
                        runtime: { transport: epol }
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        """ + CLUSTERS, "runtime.transport (line 1, col 23): expected one of auto, epoll, io_uring, nio, got \"epol\"; did you mean \"epoll\"?"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        listeners: [ { name: b, bind: "127.0.0.1:2", cluster: app } ]
                        """ + CLUSTERS, "listeners (line 2, col 1): duplicate key"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app }
                        """ + CLUSTERS, "invalid YAML"),
                Arguments.of("", "the file is empty"),
                Arguments.of("""
                        clusters: [ { name: app, servers: [ { address: "127.0.0.1:9001" } ] } ]
                        """, "listeners (line 1, col 1): required: at least one listener"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: [ { address: "127.0.0.1:9001" } ]
                            health_check: { type: http, interval: 1s, timeout: 2s, expect_status: [ "200-99" ] }
                        """, "clusters[0].health_check.timeout (line 5, col 56): must not be longer than interval (1s)"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            algorithm: round_robin
                            hash_key: "header:"
                            servers: [ { address: "127.0.0.1:9001" } ]
                        """, "clusters[0].hash_key (line 5, col 15): expected source_ip, sni, path, header:NAME, cookie:NAME or query:NAME"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: [ { address: "127.0.0.1:9001" } ]
                            health_check: { type: http, method: "GET /" }
                        """, "clusters[0].health_check.method (line 5, col 41): expected an HTTP method"),
                Arguments.of("""
                        listeners: [ { name: a, bind: "127.0.0.1:1", cluster: app } ]
                        clusters:
                          - name: app
                            servers: [ { address: "127.0.0.1:9001" } ]
                            sticky_cookie: { same_site: none }
                        """, "clusters[0].sticky_cookie.same_site (line 5, col 33): same_site: none needs secure: true"));
    }

    @ParameterizedTest
    @MethodSource("badConfigs")
    void badConfigsNameFieldLineAndColumn(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).errors()).map(ConfigError::toString)
                        .anySatisfy(line -> assertThat(line).contains(expected)));
    }

    @Test
    void everyErrorIsReportedInOnePass() {
        assertThatThrownBy(() -> ConfigLoader.parse("""
                listeners:
                  - { name: a, bind: "nope", cluster: missing, colour: red }
                clusters:
                  - name: app
                    connect_timeout: soon
                    servers: [ { address: "127.0.0.1:99999" } ]
                """)).isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                .extracting(ConfigError::path)
                .containsExactly("listeners[0].bind", "listeners[0].cluster", "listeners[0].colour",
                        "clusters[0].connect_timeout", "clusters[0].servers[0].address"));
    }

    @Test
    void aliasBombsAreRefused() {
        StringBuilder y = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 0; i < 30; i++) {
            y.append("b").append(i).append(": &b").append(i).append(" [*").append(i == 0 ? "a" : "b" + (i - 1))
                    .append(", *").append(i == 0 ? "a" : "b" + (i - 1)).append("]\n");
        }
        assertThatThrownBy(() -> ConfigLoader.parse(y.toString())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid YAML");
    }

    @Test
    void durationsAndSizesParseInOnePlace() {
        assertThat(Values.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Values.parseDuration("2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(Values.parseDuration("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(Values.parseDuration("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Values.parseDuration("0")).isEqualTo(Duration.ZERO);
        assertThat(List.of("30", "1x", "", "s", "-1s", "1.5s")).allSatisfy(s ->
                assertThat(Values.parseDuration(s)).as(s).isNull());
        assertThat(Values.parseSize("64KiB")).isEqualTo(65536);
        assertThat(Values.parseSize("1MiB")).isEqualTo(1 << 20);
        assertThat(Values.parseSize("2GiB")).isEqualTo(2L << 30);
        assertThat(Values.parseSize("100")).isEqualTo(100);
        assertThat(Values.parseSize("lots")).isEqualTo(-1);
    }

    @Test
    void hostPortsParseIpv4Ipv6NamesAndWildcards() {
        assertThat(HostPort.parse("10.0.0.1:80")).isEqualTo(new HostPort("10.0.0.1", 80));
        assertThat(HostPort.parse("[::1]:8080")).isEqualTo(new HostPort("::1", 8080));
        assertThat(HostPort.parse("*:25")).isEqualTo(new HostPort("0.0.0.0", 25));
        assertThat(HostPort.parse("mail2.internal:25")).isEqualTo(new HostPort("mail2.internal", 25));
        assertThat(List.of("10.0.0.1", "::1:80", "host:70000", "host:-1", ":80", "a b:80", "[::1]80"))
                .allSatisfy(s -> assertThat(HostPort.parse(s)).as(s).isNull());
    }

    /** A file saved in another encoding: where the first bad byte is, not the decoder's exception. */
    @ParameterizedTest
    @MethodSource("notUtf8")
    void fileThatIsNotUtf8IsRefusedWithTheOffsetOfTheFirstBadByte(byte[] bytes, String expected) throws Exception {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, bytes);
        assertThatThrownBy(() -> ConfigLoader.load(file)).isInstanceOfSatisfying(ConfigException.class, e ->
                assertThat(e.errors()).singleElement().hasToString(expected));
    }

    static Stream<Arguments> notUtf8() {
        byte[] prefix = "# caf\u00e9 ok\nlisteners: []\n# ".getBytes(StandardCharsets.UTF_8); // 27 bytes, 26 characters
        return Stream.of(
                Arguments.of(concat(prefix, new byte[] {(byte) 0xff, 'x', '\n'}),
                        "config (line 3, col 3): not UTF-8: invalid byte 0xff at offset 27"),
                // Latin-1's e-acute: a lead byte whose continuation never comes.
                Arguments.of(concat(prefix, "caf".getBytes(StandardCharsets.US_ASCII), new byte[] {(byte) 0xe9, '\n'}),
                        "config (line 3, col 6): not UTF-8: invalid byte 0xe9 at offset 30"),
                // Cut off in the middle of a three-byte character at the very end.
                Arguments.of(concat(prefix, new byte[] {(byte) 0xe2, (byte) 0x82}),
                        "config (line 3, col 3): not UTF-8: invalid byte 0xe2 at offset 27"));
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void validUtf8FileLoads() throws Exception {
        Path file = dir.resolve("utf8.yaml");
        Files.writeString(file, "# caf\u00e9 \u2013 \ud83d\ude80\nlisteners: [ { name: caf\u00e9, bind: \"127.0.0.1:1\", cluster: app } ]\n"
                + CLUSTERS, StandardCharsets.UTF_8);
        assertThat(ConfigLoader.load(file).listeners().get(0).name()).isEqualTo("caf\u00e9");
    }
}
