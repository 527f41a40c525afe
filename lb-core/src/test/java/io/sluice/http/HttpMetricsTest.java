package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The HTTP meters as Prometheus scrapes them from the admin endpoint. */
class HttpMetricsTest {

    @Test
    void requestsErrorsDurationsAndPoolGaugesAreExported() throws Exception {
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0)) {
            closedPort = ss.getLocalPort();
        }
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = Proxies.start("""
                     runtime: { worker_threads: 1 }
                     admin: { bind: "127.0.0.1:0" }
                     listeners:
                       - name: web
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         routes:
                           - { name: down, match: { path_prefix: "/down" }, cluster: dead }
                     clusters:
                       - { name: app, servers: [ { address: "%s" } ] }
                       - { name: dead, connect_retries: 0, servers: [ { address: "127.0.0.1:%d" } ] }
                     """.formatted(a.address(), closedPort));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            for (int i = 0; i < 3; i++) {
                assertThat(c.get("/ok").status()).isEqualTo(200);
            }
            assertThat(c.get("/down").status()).isEqualTo(502);
            try (RawHttp bad = new RawHttp(Proxies.port(s, "web"))) {
                assertThat(bad.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").read().status()).isEqualTo(400);
            }

            String server = a.address();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String m = Proxies.admin(s, "/metrics").body();
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\",protocol=\"http1\",route=\"default\"}"))
                        .isEqualTo(3);
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"dead\",code=\"5xx\",listener=\"web\",protocol=\"http1\",route=\"down\"}"))
                        .isEqualTo(1);
                assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"connect_failed\"}")).isEqualTo(1);
                assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"bad_request\"}")).isEqualTo(1);
                // Refused before routing: counted with the other answers, under no route and no cluster.
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"\",code=\"4xx\",listener=\"web\",protocol=\"http1\",route=\"\"}"))
                        .isEqualTo(1);
                assertThat(sample(m, "sluice_http_request_duration_seconds_count{cluster=\"app\"}")).isEqualTo(3);
                assertThat(sample(m, "sluice_http_upstream_response_seconds_count{cluster=\"app\"}")).isEqualTo(3);
                assertThat(sample(m, "sluice_http_retries_total{listener=\"web\"}")).isZero();
                assertThat(sample(m, "sluice_http_pool_connections_idle{cluster=\"app\",server=\"" + server + "\"}"))
                        .isEqualTo(1);
                assertThat(sample(m, "sluice_http_pool_connections_active{cluster=\"app\",server=\"" + server + "\"}"))
                        .isZero();
                assertThat(sample(m, "sluice_server_connections_total{cluster=\"app\",server=\"" + server + "\"}"))
                        .isEqualTo(1);
            });
        }
    }
}
