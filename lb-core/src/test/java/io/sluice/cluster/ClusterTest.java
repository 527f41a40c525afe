package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.balance.PickContext;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import io.sluice.health.HealthChecker;
import org.junit.jupiter.api.Test;

class ClusterTest {

    private static Cluster cluster(String extra) throws Exception {
        SluiceConfig c = ConfigLoader.parse("""
                listeners: [ { name: a, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    %s
                    servers:
                      - { address: "10.0.0.1:80" }
                      - { address: "10.0.0.2:80" }
                      - { address: "10.0.0.3:80" }
                      - { address: "10.0.0.4:80" }
                      - { address: "10.0.0.9:80", backup: true }
                """.formatted(extra));
        return new Cluster(c.cluster("app"));
    }

    private static Set<String> picked(Cluster c, int picks) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < picks; i++) {
            Server s = c.pick(new PickContext(null));
            seen.add(s == null ? "none" : s.label());
        }
        return seen;
    }

    private static void down(Cluster c, int... indexes) {
        for (int i : indexes) {
            c.setHealthy(c.servers().get(i), false, "test");
        }
    }

    @Test
    void downServersLeaveTheRotationAtOnce() throws Exception {
        Cluster c = cluster("panic_threshold: 50");
        down(c, 0);
        assertThat(picked(c, 30)).containsExactlyInAnyOrder("10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80");
        assertThat(c.servers().get(0).stateChanges(Server.StateChange.DOWN).sum()).isEqualTo(1);
    }

    @Test
    void belowThePanicThresholdEveryPrimaryTakesTraffic() throws Exception {
        Cluster c = cluster("panic_threshold: 50");
        down(c, 0, 1);
        assertThat(c.panic()).isFalse(); // 2 of 4 is not below 50%
        assertThat(picked(c, 30)).containsExactlyInAnyOrder("10.0.0.3:80", "10.0.0.4:80");

        down(c, 2);
        assertThat(c.panic()).isTrue();
        assertThat(picked(c, 30)).containsExactlyInAnyOrder("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80",
                "10.0.0.4:80");

        c.setHealthy(c.servers().get(2), true, "test");
        assertThat(c.panic()).isFalse();
    }

    @Test
    void withNoPrimaryLeftBackupsServeAndWithNothingLeftPicksFailFast() throws Exception {
        Cluster c = cluster("panic_threshold: 0");
        down(c, 0, 1, 2, 3);
        assertThat(picked(c, 10)).containsExactly("10.0.0.9:80");
        down(c, 4);
        assertThat(picked(c, 10)).containsExactly("none");
    }

    @Test
    void ejectedServersLeaveTheRotationAndReturn() throws Exception {
        Cluster c = cluster("panic_threshold: 0");
        Server first = c.servers().get(0);
        c.setEjected(first, true, "test");
        assertThat(picked(c, 30)).doesNotContain("10.0.0.1:80");
        c.setEjected(first, false, "test");
        assertThat(picked(c, 30)).contains("10.0.0.1:80");
        assertThat(List.of(first.stateChanges(Server.StateChange.EJECTED).sum(),
                first.stateChanges(Server.StateChange.RETURNED).sum())).containsExactly(1L, 1L);
    }

    @Test
    void initialStateDownWaitsForChecks() throws Exception {
        Cluster c = cluster("health_check: { type: tcp, initial_state: down }");
        assertThat(picked(c, 5)).containsExactly("none");
    }

    @Test
    void fiveHundredsEjectOnlyWhenConfiguredToCount() throws Exception {
        for (boolean count5xx : new boolean[] {true, false}) {
            Cluster c = cluster("outlier_detection: { consecutive_failures: 2, failures: [ %s ] }"
                    .formatted(count5xx ? "connect, 5xx" : "connect"));
            try (HealthChecker checker = new HealthChecker(GROUP, NioSocketChannel.class, new ClusterHealth.Events());
                 ClusterHealth health = new ClusterHealth(c, checker, null, GROUP.next())) {
                c.servers().forEach(health::attach);
                Server s = c.servers().get(0);
                c.reportResponse(s, 503);
                c.reportResponse(s, 200); // a success breaks the run
                c.reportResponse(s, 503);
                c.reportResponse(s, 502);
                assertThat(s.ejected()).as("counting 5xx: " + count5xx).isEqualTo(count5xx);
            }
        }
    }

    private static final io.netty.channel.EventLoopGroup GROUP = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
            io.netty.channel.nio.NioIoHandler.newFactory());

    @org.junit.jupiter.api.AfterAll
    static void stopGroup() {
        GROUP.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
