package io.sluice.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Listeners, clusters and servers come and go while running by the same steps as at start-up and shutdown. */
class RegistryTest {
    private static ServerConfig server(TestBackend b) {
        return new ServerConfig(new HostPort("127.0.0.1", b.port()), 1, false);
    }

    @Test
    void aServerAddedWhileRunningTakesWorkAndARemovedOneLeavesNoSeriesAndNoChecks() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName());
             TestBackend b = TestBackend.start("b", TestBackend.sayName());
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - { name: front, bind: "127.0.0.1:0", cluster: app }
                     clusters:
                       - name: app
                         health_check: { type: tcp, interval: 100ms, timeout: 100ms }
                         servers: [ { address: "%s" } ]
                     """.formatted(a.address()))) {
            int port = Proxies.port(s, "front");
            String bLabel = "127.0.0.1:" + b.port();
            Server added = s.registry().addServer("app", server(b));
            Set<String> seen = new HashSet<>();
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                seen.add(Proxies.exchange(port).trim());
                return seen.contains("b");
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> added.healthChecks(
                    io.sluice.health.ProbeResult.Outcome.SUCCESS).sum() > 0);
            assertThat(s.metrics().scrape()).contains("server=\"" + bLabel + "\"");

            s.registry().removeServer("app", bLabel);
            long checks = added.healthChecks(io.sluice.health.ProbeResult.Outcome.SUCCESS).sum();
            for (int i = 0; i < 20; i++) {
                assertThat(Proxies.exchange(port).trim()).isEqualTo("a");
            }
            assertThat(s.metrics().scrape()).doesNotContain(bLabel);
            assertThat(s.cluster("app").servers()).extracting(Server::label).containsExactly(a.address());
            // a's checks go on (at 100 ms) while b's stopped: one probe of b at most was already in flight
            Server kept = s.cluster("app").servers().get(0);
            long aChecks = kept.healthChecks(io.sluice.health.ProbeResult.Outcome.SUCCESS).sum();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    kept.healthChecks(io.sluice.health.ProbeResult.Outcome.SUCCESS).sum() >= aChecks + 3);
            assertThat(added.healthChecks(io.sluice.health.ProbeResult.Outcome.SUCCESS).sum()).isLessThanOrEqualTo(checks + 1);
            assertThatThrownBy(() -> s.registry().removeServer("app", bLabel))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no server");
        }
    }

    @Test
    void aStartThatFailsHalfWayLeavesNoThreadAndNoSocketBehind() throws Exception {
        int free;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            free = probe.getLocalPort();
        }
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> Proxies.start("""
                    admin: { bind: "127.0.0.1:0" }
                    listeners:
                      - { name: first, bind: "127.0.0.1:%d", cluster: app }
                      - { name: second, bind: "127.0.0.1:%d", cluster: app }
                    clusters:
                      - name: app
                        health_check: { type: tcp, interval: 1s }
                        servers: [ { address: "127.0.0.1:1" } ]
                    """.formatted(free, taken.getLocalPort()))).isNotNull();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().startsWith("sluice-")));
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), free));
            assertThat(again.isBound()).as("the first listener's socket was closed").isTrue();
        }
    }
}
