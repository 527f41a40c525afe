package io.sluice.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-loop request histogram says what the Micrometer timer it replaced said, in both exposition formats. */
class LoopTimerTest {
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private static final String HELP = "Time from a request head to the last byte of its response";

    private final MockClock clock = new MockClock();
    private final PrometheusMeterRegistry micrometer = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new PrometheusRegistry(), clock);
    private final PrometheusMeterRegistry ours = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new PrometheusRegistry(), clock);
    private final LoopTimers family = new LoopTimers("sluice_http_request_duration", HELP, "cluster",
            Duration.ofMillis(1), Duration.ofSeconds(60), clock);

    private Timer timer(String cluster) {
        return Timer.builder("sluice.http.request.duration").tags("cluster", cluster).description(HELP)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(micrometer);
    }

    private void assertSameExposition() {
        assertThat(ours.scrape()).isEqualTo(micrometer.scrape());
        assertThat(ours.scrape(OPEN_METRICS)).isEqualTo(micrometer.scrape(OPEN_METRICS));
    }

    @Test
    void bucketsCountSumAndWindowedMaxAreMicrometers() throws Exception {
        ours.getPrometheusRegistry().register(family);
        Timer a = timer("a");
        Timer b = timer("b");
        LoopTimer la = family.add("a");
        LoopTimer lb = family.add("b");
        assertSameExposition();

        // Bounds and their neighbours (1 ms is the first bound, 1,048,576 ns the second), nothing, beyond the last.
        long[] values = {0, 1, 999_999, 1_000_000, 1_000_001, 1_048_575, 1_048_576, 1_048_577, 1_398_101,
            1_398_102, 5_000_000, 123_456_789, 59_999_999_999L, 60_000_000_000L, 60_000_000_001L, 3_600_000_000_000L};
        for (long v : values) {
            a.record(v, TimeUnit.NANOSECONDS);
            la.record(v);
        }
        assertSameExposition();
        java.util.Random random = new java.util.Random(20261206);
        for (int i = 0; i < 20_000; i++) {
            long v = random.nextLong() >>> (1 + random.nextInt(63)); // every magnitude
            a.record(v, TimeUnit.NANOSECONDS);
            la.record(v);
        }
        assertSameExposition();

        // Another thread's cell adds up with this one's.
        Thread other = new Thread(() -> {
            for (long v : new long[] {2_000_000, 7_000_000_000L}) {
                la.record(v);
                lb.record(v);
            }
        });
        other.start();
        other.join();
        for (long v : new long[] {2_000_000, 7_000_000_000L}) {
            a.record(v, TimeUnit.NANOSECONDS);
            b.record(v, TimeUnit.NANOSECONDS);
        }
        assertSameExposition();

        // The max's window: a ring of three rotated every registry step (a minute).
        for (long step : new long[] {5, 16, 20, 3, 25, 19, 41, 61, 130, 200, 7}) {
            clock.add(step, TimeUnit.SECONDS);
            assertSameExposition();
            long v = step * 1_000_000 + 17;
            a.record(v, TimeUnit.NANOSECONDS);
            la.record(v);
            assertSameExposition();
        }
    }

    @Test
    void aRemovedSeriesLeavesTheExposition() {
        ours.getPrometheusRegistry().register(family);
        Timer a = timer("a");
        Timer b = timer("b");
        LoopTimer la = family.add("a");
        LoopTimer lb = family.add("b");
        assertThat(family.add("a")).isSameAs(la);
        a.record(3, TimeUnit.MILLISECONDS);
        la.record(3_000_000);
        micrometer.remove(b);
        family.remove(lb);
        assertSameExposition();
        micrometer.remove(a);
        family.remove(la);
        assertSameExposition();
    }
}
