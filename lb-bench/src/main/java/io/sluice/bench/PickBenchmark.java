package io.sluice.bench;

import io.sluice.balance.LoadBalancers;
import io.sluice.balance.PickContext;
import io.sluice.balance.Picker;
import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One pick, for every built-in algorithm, at 3, 100 and 1000 servers. Run with {@code -prof gc}: every row
 * must show ~0 B/op ({@code gc.alloc.rate.norm}), since a pick must not allocate.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PickBenchmark {

    @Param({"round_robin", "weighted_round_robin", "random", "least_connections", "power_of_two_choices",
            "least_response_time", "ring_hash", "maglev"})
    public String algorithm;

    @Param({"3", "100", "1000"})
    public int servers;

    private Picker<Server> picker;

    /** One connection's context per thread, as on an event loop. */
    @State(Scope.Thread)
    public static class Connection {
        final PickContext ctx = new PickContext(null);
        long key;
    }

    @Setup
    public void setUp() {
        picker = LoadBalancers.create(BalancerConfig.of(algorithm)).newPicker(Fixtures.servers(servers, 7));
    }

    @Benchmark
    public Server pick(Connection c) {
        // A new key per pick, as distinct clients would bring; the other algorithms ignore it.
        c.ctx.hash(c.key += 0x9E3779B97F4A7C15L);
        return picker.pick(c.ctx);
    }
}
