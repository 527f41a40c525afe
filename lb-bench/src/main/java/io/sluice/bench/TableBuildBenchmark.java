package io.sluice.bench;

import io.sluice.balance.LoadBalancer;
import io.sluice.balance.LoadBalancers;
import io.sluice.balance.Picker;
import io.sluice.cluster.Server;
import io.sluice.config.BalancerConfig;
import java.util.List;
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
 * What a server-set change costs a hashing cluster: building the maglev table or the ring (plus the fallback
 * picker) over 1000 servers. This runs off the hot path, on the thread that reports the change.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TableBuildBenchmark {

    @Param({"maglev", "ring_hash"})
    public String algorithm;

    @Param({"1000"})
    public int servers;

    private LoadBalancer balancer;
    private List<Server> list;

    @Setup
    public void setUp() {
        balancer = LoadBalancers.create(BalancerConfig.of(algorithm));
        list = Fixtures.servers(servers, 11);
    }

    @Benchmark
    public Picker<Server> build() {
        return balancer.newPicker(list);
    }
}
