package io.sluice.balance;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A pick allocates nothing, even before the JIT could elide anything: the per-thread allocation counter must
 * not move over thousands of picks of every built-in algorithm (the JMH {@code -prof gc} run shows the same
 * once compiled).
 */
class PickAllocationTest {

    @Test
    void picksAllocateNothing() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().getId();
        // The counter must see allocations at all, or this test would prove nothing.
        long probe = mx.getThreadAllocatedBytes(self);
        Object[] keep = new Object[100];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = new byte[64];
        }
        assertThat(mx.getThreadAllocatedBytes(self) - probe).isGreaterThanOrEqualTo(6400);

        // Real servers, not fakes: what production picks read (load, latency, ramp) must not allocate either.
        List<Server> servers = new ArrayList<>();
        int[] weights = {1, 2, 3, 1, 2, 3, 1, 2, 3, 5};
        for (int i = 0; i < weights.length; i++) {
            Server s = new Server("test", new ServerConfig(HostPort.parse(TestServers.address(i)), weights[i], false));
            s.latency().record(1_000_000);
            servers.add(s);
        }
        for (String algorithm : LoadBalancers.names()) {
            BalancerConfig cfg = BalancerConfig.of(algorithm).withSlowStart(Duration.ofSeconds(30));
            Picker<Server> p = LoadBalancers.create(cfg).newPicker(servers);
            PickContext keyed = new PickContext(new InetSocketAddress("192.0.2.1", 1));
            PickContext keyless = new PickContext(null);
            p.pick(keyed); // source_ip is hashed once per connection, on its first pick
            long sink = 0;
            for (int round = 0; round < 3; round++) {
                long before = mx.getThreadAllocatedBytes(self);
                for (int i = 0; i < 20_000; i++) {
                    keyed.hash(i * 0x9E3779B97F4A7C15L);
                    sink += p.pick(keyed).weight();
                    sink += p.pick(keyless).weight();
                }
                long allocated = mx.getThreadAllocatedBytes(self) - before;
                if (round == 2) {
                    // A few bytes of slack for the counter's own bookkeeping; one allocation per pick
                    // would be 40,000 × at least 16 bytes.
                    assertThat(allocated).as(algorithm).isLessThan(1024);
                }
            }
            assertThat(sink).isPositive();
        }
    }
}
