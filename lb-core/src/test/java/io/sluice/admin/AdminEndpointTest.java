package io.sluice.admin;

import static io.sluice.testing.Proxies.admin;
import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class AdminEndpointTest {

    @Test
    void metricsCountWhatHappened() throws Exception {
        int deadPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
        try (TestBackend a = TestBackend.start("a", TestBackend.countThenReply());
             TestBackend held = TestBackend.start("held", TestBackend.hold());
             Sluice s = Proxies.start("""
                     admin: { bind: "127.0.0.1:0" }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", cluster: app }
                       - { name: hold, bind: "127.0.0.1:0", cluster: holders }
                     clusters:
                       - name: app
                         servers:
                           - { address: "%s" }
                           - { address: "127.0.0.1:%d" }
                       - name: holders
                         servers: [ { address: "%s" } ]
                     """.formatted(a.address(), deadPort, held.address()))) {
            int port = Proxies.port(s, "web");
            for (int i = 0; i < 4; i++) {
                try (Socket c = Proxies.connect(port)) {
                    c.getOutputStream().write(new byte[1000]);
                    c.shutdownOutput();
                    assertThat(Proxies.readAll(c.getInputStream())).startsWith("1000 bytes to a");
                }
            }
            try (Socket open = Proxies.connect(Proxies.port(s, "hold"))) {
                await().atMost(Duration.ofSeconds(10)).until(() -> held.openConnections() == 1);

                HttpResponse<String> res = admin(s, "/metrics");
                assertThat(res.statusCode()).isEqualTo(200);
                assertThat(res.headers().firstValue("content-type")).hasValueSatisfying(
                        v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
                String m = res.body();
                String live = "{cluster=\"app\",server=\"" + a.address() + "\"}";
                String dead = "{cluster=\"app\",server=\"127.0.0.1:" + deadPort + "\"}";
                assertThat(sample(m, "sluice_listener_connections_total{listener=\"web\"}")).isEqualTo(4);
                assertThat(sample(m, "sluice_listener_connections_active{listener=\"hold\"}")).isEqualTo(1);
                assertThat(sample(m, "sluice_server_connections_total" + live)).isEqualTo(4);
                assertThat(sample(m, "sluice_server_connections_active{cluster=\"holders\",server=\""
                        + held.address() + "\"}")).isEqualTo(1);
                assertThat(sample(m, "sluice_server_bytes_sent_total" + live)).isEqualTo(4000);
                assertThat(sample(m, "sluice_server_bytes_received_total" + live))
                        .isEqualTo(4 * "1000 bytes to a\n".length());
                assertThat(sample(m, "sluice_server_connect_errors_total" + dead)).isPositive();
                assertThat(sample(m, "sluice_server_connections_total" + dead)).isZero();
                assertThat(m).contains("jvm_memory_used_bytes", "netty_allocator_memory_used");
                // Netty's count of what it reserved: at least the pooled allocator's first chunks (-1 if it kept none).
                assertThat(sample(m, "sluice_netty_direct_memory_used_bytes")).isPositive();
                assertThat(sample(m, "sluice_netty_direct_memory_max_bytes")).isPositive();
            }
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    sample(admin(s, "/metrics").body(), "sluice_listener_connections_active{listener=\"hold\"}") == 0);
        }
    }

    @Test
    void healthAndReadinessFollowTheListeners() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName());
             Sluice s = Proxies.start("""
                     admin: { bind: "127.0.0.1:0" }
                     listeners: [ { name: web, bind: "127.0.0.1:0", cluster: app } ]
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(a.address()))) {
            assertThat(admin(s, "/healthz").statusCode()).isEqualTo(200);
            assertThat(admin(s, "/ready").statusCode()).isEqualTo(200);
            assertThat(admin(s, "/nope").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void readyAnswers503WhileDraining() throws Exception {
        try (TestBackend held = TestBackend.start("held", TestBackend.hold());
             Sluice s = Proxies.start("""
                     admin: { bind: "127.0.0.1:0" }
                     listeners: [ { name: web, bind: "127.0.0.1:0", cluster: app } ]
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(held.address()))) {
            CompletableFuture<Void> shutdown;
            try (Socket open = Proxies.connect(Proxies.port(s, "web"))) {
                await().atMost(Duration.ofSeconds(10)).until(() -> held.openConnections() == 1);
                assertThat(admin(s, "/ready").statusCode()).isEqualTo(200);

                // The open connection keeps the drain going, so the admin endpoint is still there to ask.
                shutdown = CompletableFuture.runAsync(() -> s.shutdown(Duration.ofMinutes(5)));
                await().atMost(Duration.ofSeconds(10)).until(() -> admin(s, "/ready").statusCode() == 503);
                assertThat(shutdown).isNotDone();
                assertThat(admin(s, "/healthz").statusCode()).isEqualTo(200);
            }
            // The drain ends with the last connection, not at its timeout.
            shutdown.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    void malformedAdminRequestGetsA400AndTheProcessCarriesOn() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName());
             Sluice s = Proxies.start("""
                     admin: { bind: "127.0.0.1:0" }
                     listeners: [ { name: web, bind: "127.0.0.1:0", cluster: app } ]
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(a.address()))) {
            try (Socket c = Proxies.connect(s.adminAddress().getPort())) {
                c.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".getBytes());
                assertThat(Proxies.readAll(c.getInputStream())).startsWith("HTTP/1.1 400");
            }
            assertThat(admin(s, "/healthz").statusCode()).isEqualTo(200);
        }
    }
}
