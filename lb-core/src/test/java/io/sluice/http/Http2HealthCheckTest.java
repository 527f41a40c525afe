package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.health.ProbeResult;
import io.sluice.testing.GrpcTestServer;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Health checks of h2 and h2c clusters speak HTTP/2: {@code type: http} as a GET on a stream, {@code grpc} over ALPN h2. */
class Http2HealthCheckTest {
    private static final TestCertificates.Ca CA = TestCertificates.newCa("Health CA");

    @TempDir
    Path dir;

    private static String config(String type, String cluster, String address) {
        return """
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: %s, interval: 200ms, timeout: 200ms, rise: 1, fall: 1 }
                    panic_threshold: 0
                %s
                    servers: [ { address: "%s" } ]
                """.formatted(type, cluster, address);
    }

    @Test
    void anH2cServerThatGoesDownIsTakenOutAndComesBackIn() throws Exception {
        H2TestServer first = new H2TestServer("a", null);
        String address = first.address();
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        try (Sluice s = Proxies.start(config("http, path: /healthz", "    protocol: h2c", address))) {
            Server server = s.cluster("app").servers().get(0);
            try {
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> server.healthChecks(ProbeResult.Outcome.SUCCESS).sum() > 0);
                assertThat(server.healthy()).isTrue();
                // H2TestServer speaks nothing but HTTP/2: the check came as a stream.
                assertThat(first.requests).anySatisfy(r -> {
                    assertThat(r.method()).isEqualTo("GET");
                    assertThat(r.path()).isEqualTo("/healthz");
                    assertThat(r.scheme()).isEqualTo("http");
                    assertThat(r.authority()).isEqualTo(address);
                    assertThat(r.headers().contains("connection")).isFalse();
                });
            } finally {
                first.close();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy());

            try (H2TestServer again = new H2TestServer("a", port)) {
                await().atMost(Duration.ofSeconds(10)).until(server::healthy);
                assertThat(again.requests).isNotEmpty();
            }
        }
    }

    @Test
    void httpCheckOverH2WithTls() throws Exception {
        Path ca = CA.writePem(dir.resolve("ca.pem"));
        try (H2TestServer a = new H2TestServer("a", null, CA.server("app.internal"));
             Sluice s = Proxies.start(config("http, path: /tls-health", """
                         protocol: h2
                         tls: { sni: app.internal, ca: "%s" }
                     """.stripTrailing().formatted(ca), a.address()))) {
            Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.healthChecks(ProbeResult.Outcome.SUCCESS).sum() > 0);
            assertThat(a.requests).anySatisfy(r -> {
                assertThat(r.path()).isEqualTo("/tls-health");
                assertThat(r.scheme()).isEqualTo("https");
            });
            assertThat(a.sniNames).contains("app.internal");
        }
    }

    @Test
    void grpcCheckOverH2WithTls() throws Exception {
        Path ca = CA.writePem(dir.resolve("ca.pem"));
        Path[] cert = CA.server("app.internal").writePem(dir, "grpc");
        try (GrpcTestServer g = GrpcTestServer.tls(cert[0], cert[1]);
             Sluice s = Proxies.start(config("grpc", """
                         protocol: h2
                         tls: { sni: app.internal, ca: "%s" }
                     """.stripTrailing().formatted(ca), g.address()))) {
            Server server = s.cluster("app").servers().get(0);
            g.health().setStatus("", ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.healthChecks(ProbeResult.Outcome.SUCCESS).sum() > 0);
            g.health().setStatus("", ServingStatus.NOT_SERVING);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy()
                    && String.valueOf(server.lastCheck()).contains("NOT_SERVING"));
            g.health().setStatus("", ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(10)).until(server::healthy);
        }
    }
}
