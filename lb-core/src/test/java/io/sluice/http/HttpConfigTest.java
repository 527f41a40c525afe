package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sluice.config.Cidr;
import io.sluice.config.ConfigError;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.HttpConfig;
import io.sluice.config.ListenerConfig;
import io.sluice.config.PoolConfig;
import io.sluice.config.SluiceConfig;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP keys of the config: defaults, parsing, and an error with a position for each mistake. */
class HttpConfigTest {

    @Test
    void defaultsApplyWhenTheBlocksAreAbsent() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                """);
        ListenerConfig l = c.listeners().get(0);
        assertThat(l.protocol()).isEqualTo(ListenerConfig.Protocol.HTTP);
        assertThat(l.http()).isEqualTo(HttpConfig.DEFAULT);
        assertThat(l.routes()).isEmpty();
        assertThat(c.clusters().get(0).pool()).isEqualTo(PoolConfig.DEFAULT);
    }

    @Test
    void everyKeyIsRead() throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { max_request_line: 4KiB, max_header_size: 32KiB, max_headers: 50, max_body_size: 1MiB,
                            header_timeout: 5s, keepalive_timeout: 0, response_timeout: 1m, forwarded: true, via: false,
                            retries: 2, retry_budget_percent: 5, trusted_proxies: ["10.0.0.0/8", "::1"] }
                clusters:
                  - name: app
                    pool: { max_connections_per_loop: 8, max_idle_time: 10s, max_requests_per_connection: 100 }
                    servers: [ { address: "127.0.0.1:1" } ]
                """);
        assertThat(c.listeners().get(0).http()).isEqualTo(new HttpConfig(4096, 32768, 50, 1 << 20,
                Duration.ofSeconds(5), Duration.ZERO, Duration.ofMinutes(1), true, false, 2, 5, null, false, null, true,
                List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")), HttpConfig.DEFAULT_SEND_TIMEOUT));
        assertThat(c.clusters().get(0).pool()).isEqualTo(new PoolConfig(8, Duration.ofSeconds(10), 100,
                PoolConfig.DEFAULT_PING_INTERVAL, PoolConfig.DEFAULT_PING_TIMEOUT, PoolConfig.DEFAULT_MAX_WAITING));
    }

    @Test
    void everyMistakeIsReportedWithItsPosition() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse("""
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { max_header_sise: 1KiB, max_body_size: lots, trusted_proxies: ["10.0.0.0/33"] }
                    routes:
                      - match: { path_prefx: "/a" }
                        cluster: ap
                      - match: { path_regex: "([", header: { name: "x-a" } }
                        cluster: app
                        prefix_rewrite: "/b"
                      - match: { host: "bad host!" }
                        cluster: app
                        request_headers: { set: { "bad name": x } }
                  - { name: tcp, bind: "127.0.0.1:0", cluster: app, routes: [ { match: { host: a.b }, cluster: app } ] }
                clusters:
                  - name: app
                    pool: { max_connections_per_loop: 0 }
                    servers: [ { address: "127.0.0.1:1" } ]
                """));
        List<String> errors = e.errors().stream().map(ConfigError::toString).toList();
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].http.max_header_sise (line 6")
                .contains("did you mean \"max_header_size\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].http.max_body_size")
                .contains("expected a size"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].http.trusted_proxies[0] (line 6")
                .contains("10.0.0.0/33"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[0].match.path_prefx")
                .contains("did you mean \"path_prefix\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[0].cluster")
                .contains("no cluster named \"ap\"").contains("did you mean \"app\""));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[1].match.path_regex")
                .contains("invalid regular expression"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[1].match.header")
                .contains("exactly one of exact, regex or present"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[1].prefix_rewrite")
                .contains("needs match.path_prefix"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[0].routes[2].match.host"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("request_headers.set.bad name")
                .contains("not a valid header name"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("listeners[1].routes[0].match.host")
                .contains("only for protocol: http"));
        assertThat(errors).anySatisfy(s -> assertThat(s).contains("clusters[0].pool.max_connections_per_loop")
                .contains("between 1 and"));
        assertThat(errors).allSatisfy(s -> assertThat(s).containsPattern("\\(line \\d+, col \\d+\\)"));
    }
}
