package io.sluice.balance;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.config.BalancerConfig;
import io.sluice.config.HashKeyConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A picker is a snapshot: nothing done to the server list after it was built changes what it picks from. */
class SnapshotTest {

    @Test
    void pickersDoNotSeeLaterChangesToTheirInputList() {
        for (String algorithm : LoadBalancers.names()) {
            List<FakeEndpoint> list = new ArrayList<>(TestServers.equal(4));
            List<FakeEndpoint> original = List.copyOf(list);
            BalancerConfig cfg = new BalancerConfig(algorithm, HashKeyConfig.SOURCE_IP, "round_robin", 100, 65537,
                    Duration.ofSeconds(10), Duration.ZERO);
            Picker<FakeEndpoint> p = LoadBalancers.create(cfg).newPicker(list);
            list.clear();
            list.add(TestServers.server(99, 1));
            PickContext ctx = new PickContext(null);
            for (int i = 0; i < 100; i++) {
                assertThat(original).as(algorithm).contains(p.pick(ctx));
            }
        }
    }
}
