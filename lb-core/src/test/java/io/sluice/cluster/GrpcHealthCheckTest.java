package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sluice.Sluice;
import io.sluice.health.ProbeResult;
import io.sluice.testing.GrpcTestServer;
import io.sluice.testing.Proxies;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** health_check type grpc against grpc-java's standard health service, switched between its states. */
class GrpcHealthCheckTest {

    static String config(String address, String service) {
        return """
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: grpc, %s interval: 200ms, timeout: 200ms, rise: 1, fall: 1 }
                    panic_threshold: 0
                    servers: [ { address: "%s" } ]
                """.formatted(service == null ? "" : "service: \"" + service + "\",", address);
    }

    @Test
    void serverFollowsItsServingStatus() throws Exception {
        try (GrpcTestServer g = GrpcTestServer.h2c();
             Sluice s = Proxies.start(config(g.address(), null))) {
            Server server = s.cluster("app").servers().get(0);
            g.health().setStatus("", ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.healthChecks(ProbeResult.Outcome.SUCCESS).sum() > 0);
            assertThat(server.healthy()).isTrue();

            g.health().setStatus("", ServingStatus.NOT_SERVING);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy()
                    && String.valueOf(server.lastCheck()).contains("NOT_SERVING"));

            g.health().setStatus("", ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(10)).until(server::healthy);
        }
    }

    @Test
    void aNamedServiceIsAskedAbout() throws Exception {
        try (GrpcTestServer g = GrpcTestServer.h2c();
             Sluice s = Proxies.start(config(g.address(), "sluice.test.Echo"))) {
            Server server = s.cluster("app").servers().get(0);
            // Unknown to the health service: grpc-status NOT_FOUND, so the server goes down.
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy()
                    && String.valueOf(server.lastCheck()).contains("grpc-status 5"));

            g.health().setStatus("sluice.test.Echo", ServingStatus.SERVING);
            await().atMost(Duration.ofSeconds(10)).until(server::healthy);
            g.health().setStatus("sluice.test.Echo", ServingStatus.NOT_SERVING);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy());
            assertThat(g.methods).contains("Check");
        }
    }

    @Test
    void aServerThatDoesNotSpeakGrpcIsDown() throws Exception {
        try (io.sluice.testing.TestBackend plain = io.sluice.testing.TestBackend.start("plain",
                io.sluice.testing.TestBackend.sayName());
             Sluice s = Proxies.start(config(plain.address(), null))) {
            Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy());
        }
    }
}
