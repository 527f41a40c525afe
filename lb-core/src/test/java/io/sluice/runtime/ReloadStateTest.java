package io.sluice.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.config.ConfigLoader;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** State that a reload must carry over, or give back, whatever else it changes. */
class ReloadStateTest {
    @TempDir
    Path dir;

    private Sluice start(String yaml) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml);
        return Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
    }

    private ReloadResult reload(Sluice s, String yaml) throws Exception {
        Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return s.reloadAsync().get(30, TimeUnit.SECONDS);
    }

    @Test
    void aServerDownWhenChecksChangeComesBackThroughTheNewChecks() throws Exception {
        int port = Proxies.freePort();
        String yaml = """
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    health_check: { type: tcp, interval: %s, timeout: 100ms, rise: 1, fall: 1 }
                    servers: [ { address: "127.0.0.1:%d" } ]
                """;
        try (Sluice s = start(yaml.formatted("150ms", port))) {
            Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> !server.healthy());
            assertThat(reload(s, yaml.formatted("120ms", port)).applied()).isTrue();
            try (TestBackend back = TestBackend.startOn(port, "back", TestBackend.sayName())) {
                await().atMost(Duration.ofSeconds(10)).until(server::healthy);
                assertThat(Proxies.exchange(Proxies.port(s, "front")).trim()).isEqualTo("back");
            }
        }
    }

    @Test
    void anEjectionEndsWhenOutlierDetectionRestartsAndTheNewDetectorCounts() throws Exception {
        int dead = Proxies.freePort();
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName())) {
            String yaml = """
                    admin: { enabled: false }
                    listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                    clusters:
                      - name: app
                        connect_retries: 1
                        outlier_detection: { consecutive_failures: 1, base_ejection_time: %s, max_ejection_time: 3h, max_ejection_percent: 100 }
                        servers: [ { address: "%s" }, { address: "127.0.0.1:%d" } ]
                    """;
            try (Sluice s = start(yaml.formatted("1h", a.address(), dead))) {
                Server down = s.cluster("app").server("127.0.0.1:" + dead);
                int port = Proxies.port(s, "front");
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Proxies.exchange(port);
                    return down.ejected();
                });
                assertThat(reload(s, yaml.formatted("2h", a.address(), dead)).applied()).isTrue();
                assertThat(down.ejected()).as("ejected by the old detector, free under the new one").isFalse();
                assertThat(down.outlier()).as("tracked by the new detector").isNotNull();
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    Proxies.exchange(port);
                    return down.ejected();
                });
            }
        }
    }

    @Test
    void aRejectedReloadLeavesAMovedListenerAsItWas() throws Exception {
        try (TestBackend echo = TestBackend.start("e", TestBackend.echo());
             ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            int port = Proxies.freePort();
            String yaml = """
                    admin: { enabled: false }
                    listeners: [ { name: front, bind: "127.0.0.1:%d", cluster: app } ]
                    clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                    """;
            try (Sluice s = start(yaml.formatted(port, echo.address()));
                 Socket open = Proxies.connect(port)) {
                Proxies.roundTrip(open, "before");
                long accepted = s.listener("front").stats().total();
                ReloadResult r = reload(s, yaml.formatted(taken.getLocalPort(), echo.address()));
                assertThat(r.applied()).isFalse();
                assertThat(r.errors()).singleElement().satisfies(e -> assertThat(e.path()).isEqualTo("listeners[0].bind"));
                Proxies.roundTrip(open, "after"); // its connection was never touched
                try (Socket again = Proxies.connect(port)) {
                    Proxies.roundTrip(again, "new");
                }
                assertThat(s.listener("front").stats().total()).as("its counts go on").isEqualTo(accepted + 1);
                assertThat(s.metrics().scrape()).contains("sluice_listener_connections_total{listener=\"front\"}");
            }
        }
    }

}
