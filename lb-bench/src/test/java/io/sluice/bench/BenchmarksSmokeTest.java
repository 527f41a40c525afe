package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.epoll.Epoll;
import io.netty.handler.ssl.OpenSsl;
import java.util.Collection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every JMH benchmark once, briefly and in this JVM, so a benchmark that no longer starts or throws fails
 * the build instead of rotting. The figures it prints mean nothing; real runs are in the README.
 */
class BenchmarksSmokeTest {

    @Test
    void everyBenchmarkRunsOneShortIteration() throws Exception {
        OptionsBuilder builder = new OptionsBuilder();
        if (!Epoll.isAvailable()) {
            // The sluice_epoll and sluice_splice targets need Linux's epoll.
            builder.param("target", "direct", "sluice");
        }
        if (!OpenSsl.isAvailable()) {
            // The OPENSSL provider of the TLS benchmarks needs netty-tcnative's native library (linux-x86_64).
            builder.param("provider", "JDK");
        }
        Options options = builder
                .include("io\\.sluice\\.(bench|http)\\..*Benchmark.*")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(50))
                .timeout(TimeValue.seconds(60))
                .timeUnit(TimeUnit.MICROSECONDS)
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        assertThat(results).isNotEmpty();
        assertThat(results).allSatisfy(r -> assertThat(r.getPrimaryResult().getScore()).isPositive());
    }
}
