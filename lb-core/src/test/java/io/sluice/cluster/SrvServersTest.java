package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.ServerConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How SRV records become servers: weights into Sluice's range, priorities into primaries and backups. */
class SrvServersTest {
    private static SrvTarget t(String host, int port, int priority, int weight) {
        return new SrvTarget(host, port, priority, weight, null);
    }

    @Test
    void theLowestPriorityPresentArePrimariesEveryHigherOneBackups() {
        List<ServerConfig> s = SrvServers.of(List.of(t("c.test", 80, 30, 1), t("a.test", 80, 10, 1),
                t("b.test", 80, 20, 1), t("d.test", 80, 10, 1)));
        assertThat(s).extracting(ServerConfig::label).containsExactly("a.test:80", "d.test:80", "b.test:80", "c.test:80");
        assertThat(s).extracting(ServerConfig::backup).containsExactly(false, false, true, true);
    }

    @Test
    void weightsKeepTheirValueZeroIsTheSmallestAndTheTopIsCapped() {
        List<ServerConfig> s = SrvServers.of(List.of(t("a.test", 1, 0, 0), t("b.test", 1, 0, 7),
                t("c.test", 1, 0, 65_535)));
        assertThat(s).extracting(ServerConfig::weight).containsExactly(1, 7, 10_000);
    }

    @Test
    void aTargetListedTwiceKeepsItsMostPreferredRecord() {
        List<ServerConfig> s = SrvServers.of(List.of(t("a.test", 80, 20, 3), t("a.test", 80, 10, 5),
                t("a.test", 81, 10, 1)));
        assertThat(s).extracting(ServerConfig::label).containsExactly("a.test:80", "a.test:81");
        assertThat(s.get(0).weight()).isEqualTo(5);
        assertThat(s).noneMatch(ServerConfig::backup);
    }
}
