package io.sluice.cluster;

import static io.sluice.testing.Proxies.exchange;
import static io.sluice.testing.Proxies.port;
import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.Sluice;
import io.sluice.health.ProbeResult;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** lb-health wired into the proxy: real backends that the tests stop, restart and make answer 500. */
class HealthIntegrationTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T r) {
        resources.add(r);
        return r;
    }

    private static Map<String, Integer> spread(int port, int connections) throws IOException {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < connections; i++) {
            counts.merge(exchange(port).trim(), 1, Integer::sum);
        }
        return counts;
    }

    /** State changes publish a new picker from the control thread; wait for it rather than race it. */
    private static void awaitPickerWithout(Cluster cluster, Server gone) {
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            for (int i = 0; i < 3 * cluster.servers().size(); i++) {
                if (cluster.pick(new io.sluice.balance.PickContext(null)) == gone) {
                    return false;
                }
            }
            return true;
        });
    }

    @Test
    void killedServerLeavesTheRotationAndRejoinsAfterRise() throws Exception {
        TestBackend a = keep(TestBackend.start("a", TestBackend.sayName()));
        TestBackend b = TestBackend.start("b", TestBackend.sayName());
        TestBackend c = keep(TestBackend.start("c", TestBackend.sayName()));
        Sluice s = keep(Proxies.start("""
                admin: { bind: "127.0.0.1:0" }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 2, fall: 2 }
                    panic_threshold: 0
                    servers:
                      - { address: "%s" }
                      - { address: "%s" }
                      - { address: "%s" }
                """.formatted(a.address(), b.address(), c.address())));
        Server serverB = s.cluster("app").servers().get(1);
        assertThat(spread(port(s, "front"), 30)).containsOnlyKeys("a", "b", "c");

        b.close();
        // Within interval × fall plus one interval, with slack for a loaded 2-core machine.
        await().atMost(Duration.ofMillis(100 * 2 + 100 + 2000)).until(() -> !serverB.healthy());
        awaitPickerWithout(s.cluster("app"), serverB);
        long errorsAtDown = serverB.connectErrors().sum();
        assertThat(spread(port(s, "front"), 30)).containsOnlyKeys("a", "c");
        assertThat(serverB.connectErrors().sum()).as("no connect attempts to a DOWN server").isEqualTo(errorsAtDown);

        try (TestBackend again = TestBackend.startOn(b.port(), "b", TestBackend.sayName())) {
            await().atMost(Duration.ofSeconds(10)).until(serverB::healthy);
            await().atMost(Duration.ofSeconds(5)).until(() -> spread(port(s, "front"), 9).containsKey("b"));
            String m = Proxies.admin(s, "/metrics").body();
            String labels = "{cluster=\"app\",server=\"" + b.address() + "\"";
            assertThat(sample(m, "sluice_server_up" + labels + "}")).isEqualTo(1);
            assertThat(sample(m, "sluice_server_state_changes_total" + labels + ",to=\"down\"}")).isEqualTo(1);
            assertThat(sample(m, "sluice_server_state_changes_total" + labels + ",to=\"up\"}")).isEqualTo(1);
            assertThat(sample(m, "sluice_health_checks_total{cluster=\"app\",result=\"failure\",server=\""
                    + b.address() + "\"}")).isGreaterThanOrEqualTo(2);
            assertThat(m).contains("sluice_health_check_duration_seconds_bucket{cluster=\"app\"");
        }
    }

    private HttpServer healthEndpoint(AtomicInteger status) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/health", ex -> {
            byte[] body = "status".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(status.get(), body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.start();
        resources.add(() -> http.stop(0));
        return http;
    }

    @Test
    void httpCheckAnswering500TakesTheServerDown() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        HttpServer web = healthEndpoint(status);
        HttpServer other = healthEndpoint(new AtomicInteger(200));
        Sluice s = keep(Proxies.start("""
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: http, path: /health, interval: 200ms, timeout: 200ms, rise: 1, fall: 2 }
                    panic_threshold: 0
                    servers:
                      - { address: "127.0.0.1:%d" }
                      - { address: "127.0.0.1:%d" }
                """.formatted(web.getAddress().getPort(), other.getAddress().getPort())));
        Cluster app = s.cluster("app");
        Server webServer = app.servers().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() ->
                webServer.healthChecks(ProbeResult.Outcome.SUCCESS).sum() > 0);
        assertThat(webServer.healthy()).isTrue();

        status.set(500);
        await().atMost(Duration.ofSeconds(10)).until(() -> !webServer.healthy());
        awaitPickerWithout(app, webServer);
        status.set(204);
        await().atMost(Duration.ofSeconds(10)).until(webServer::healthy);
    }

    @Test
    void outlierDetectionEjectsOnConnectFailuresForLongerEachTime() throws Exception {
        TestBackend a = keep(TestBackend.start("a", TestBackend.sayName()));
        TestBackend b = TestBackend.start("b", TestBackend.sayName());
        b.close(); // b refuses from the start; no active checks in this cluster
        Sluice s = keep(Proxies.start("""
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    outlier_detection: { consecutive_failures: 2, base_ejection_time: 300ms, max_ejection_percent: 50 }
                    servers:
                      - { address: "%s" }
                      - { address: "%s" }
                """.formatted(a.address(), b.address())));
        Cluster app = s.cluster("app");
        Server dead = app.servers().get(1);
        int port = port(s, "front");

        // Every connection still lands on a (the failed connect is retried); b is ejected after 2 failures.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            assertThat(exchange(port).trim()).isEqualTo("a");
            return dead.ejected();
        });
        assertThat(spread(port, 10)).containsOnlyKeys("a");
        // It comes back after the ejection time, fails twice more, and is ejected again for longer.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            exchange(port);
            return dead.outlier().ejections() >= 2;
        });
        assertThat(dead.stateChanges(Server.StateChange.EJECTED).sum()).isGreaterThanOrEqualTo(2);
        assertThat(dead.stateChanges(Server.StateChange.RETURNED).sum()).isGreaterThanOrEqualTo(1);
    }

    @ParameterizedTest(name = "close_on_down={0}")
    @ValueSource(booleans = {false, true})
    void establishedConnectionsSurviveDownUnlessCloseOnDown(boolean closeOnDown) throws Exception {
        TestBackend echo = keep(TestBackend.start("echo", TestBackend.echo()));
        java.net.ServerSocket healthPort = new java.net.ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Sluice s = keep(Proxies.start("""
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: tcp, port: %d, interval: 100ms, timeout: 100ms, rise: 1, fall: 1, close_on_down: %s }
                    servers: [ { address: "%s" } ]
                """.formatted(healthPort.getLocalPort(), closeOnDown, echo.address())));
        Server server = s.cluster("app").servers().get(0);
        try (java.net.Socket client = Proxies.connect(port(s, "front"))) {
            client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(client.getInputStream().readNBytes(4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));

            healthPort.close(); // the checks fail; the data port still works
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy());
            if (closeOnDown) {
                assertThat(client.getInputStream().read()).isEqualTo(-1);
            } else {
                client.getOutputStream().write("pong".getBytes(StandardCharsets.US_ASCII));
                assertThat(client.getInputStream().readNBytes(4))
                        .isEqualTo("pong".getBytes(StandardCharsets.US_ASCII));
            }
        }
    }

    @Test
    void panicModeSpreadsOverAllServersAndSaysSo() throws Exception {
        TestBackend a = keep(TestBackend.start("a", TestBackend.sayName()));
        List<TestBackend> dead = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestBackend d = TestBackend.start("d" + i, TestBackend.sayName());
            d.close();
            dead.add(d);
        }
        Sluice s = keep(Proxies.start("""
                admin: { bind: "127.0.0.1:0" }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: tcp, interval: 100ms, timeout: 100ms, rise: 1, fall: 1 }
                    panic_threshold: 50
                    connect_retries: 3
                    servers:
                      - { address: "%s" }
                      - { address: "%s" }
                      - { address: "%s" }
                      - { address: "%s" }
                """.formatted(a.address(), dead.get(0).address(), dead.get(1).address(), dead.get(2).address())));
        Cluster app = s.cluster("app");
        await().atMost(Duration.ofSeconds(10)).until(app::panic);
        assertThat(sample(Proxies.admin(s, "/metrics").body(), "sluice_cluster_panic{cluster=\"app\"}")).isEqualTo(1);
        // In panic every server gets picked again: the dead ones collect connect errors, and clients still
        // land on a through connect retries.
        assertThat(spread(port(s, "front"), 12)).containsOnlyKeys("a");
        long deadErrors = app.servers().stream().skip(1).mapToLong(sv -> sv.connectErrors().sum()).sum();
        assertThat(deadErrors).isPositive();
    }
}
