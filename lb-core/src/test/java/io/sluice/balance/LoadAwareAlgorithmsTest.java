package io.sluice.balance;

import static io.sluice.balance.TestServers.servers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** least_connections, power_of_two_choices and least_response_time steer new work by live load. */
class LoadAwareAlgorithmsTest {
    private static final SlowStart NO_RAMP = SlowStart.of(Duration.ZERO);

    /** Each pick opens a connection that stays open, as long-lived TCP connections do. */
    private static Map<FakeEndpoint, Integer> placeLongConnections(Picker<FakeEndpoint> p, int picks) {
        Map<FakeEndpoint, Integer> c = new IdentityHashMap<>();
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < picks; i++) {
            FakeEndpoint s = p.pick(ctx);
            s.addLoad();
            c.merge(s, 1, Integer::sum);
        }
        return c;
    }

    @Test
    void leastConnectionsSendsNewWorkAwayFromABusyServer() {
        List<FakeEndpoint> list = servers(1, 1, 1, 1);
        FakeEndpoint busy = list.get(0);
        busy.load(50);
        Picker<FakeEndpoint> p = new LeastConnections(NO_RAMP, Rng.seeded(3)).newPicker(list);
        Map<FakeEndpoint, Integer> c = placeLongConnections(p, 150);
        assertThat(c.get(busy)).isNull();
        for (FakeEndpoint s : list.subList(1, 4)) {
            assertThat(c.get(s)).isEqualTo(50);
        }
    }

    @Test
    void leastConnectionsBreaksTiesFairly() {
        List<FakeEndpoint> list = servers(1, 1, 1, 1, 1);
        Picker<FakeEndpoint> p = new LeastConnections(NO_RAMP, Rng.seeded(4)).newPicker(list);
        // Loads never change: every pick is a five-way tie, which must not always go to the first server.
        Map<FakeEndpoint, Integer> c = TestServers.count(p, 50_000);
        for (FakeEndpoint s : list) {
            assertThat(c.get(s) / 50_000.0).isCloseTo(0.2, within(0.01));
        }
    }

    @Test
    void leastConnectionsHoldsConnectionsInProportionToWeight() {
        List<FakeEndpoint> list = servers(1, 3);
        Picker<FakeEndpoint> p = new LeastConnections(NO_RAMP, Rng.seeded(5)).newPicker(list);
        Map<FakeEndpoint, Integer> c = placeLongConnections(p, 400);
        assertThat(c.get(list.get(1)) - 3 * c.get(list.get(0))).isBetween(-3, 3);
    }

    @Test
    void powerOfTwoChoicesSendsNewWorkAwayFromABusyServer() {
        List<FakeEndpoint> list = servers(1, 1, 1, 1);
        FakeEndpoint busy = list.get(0);
        busy.load(100);
        Picker<FakeEndpoint> p = new PowerOfTwoChoices(NO_RAMP, Rng.seeded(6)).newPicker(list);
        Map<FakeEndpoint, Integer> c = placeLongConnections(p, 150);
        // Whenever the busy server is drawn, its rival holds at most ~50 connections: it always loses.
        assertThat(c.get(busy)).isNull();
        for (FakeEndpoint s : list.subList(1, 4)) {
            assertThat(c.get(s)).isBetween(40, 60);
        }
    }

    @Test
    void powerOfTwoChoicesUsesInFlightHttpRequestsAsLoad() {
        List<FakeEndpoint> list = servers(1, 1);
        list.get(1).load(5);
        Picker<FakeEndpoint> p = new PowerOfTwoChoices(NO_RAMP, Rng.seeded(7)).newPicker(list);
        assertThat(TestServers.count(p, 1000).get(list.get(0))).isEqualTo(1000);
    }

    @Test
    void powerOfTwoChoicesKeepsLoadEvenAcrossManyServers() {
        List<FakeEndpoint> list = TestServers.equal(100);
        Picker<FakeEndpoint> p = new PowerOfTwoChoices(NO_RAMP, Rng.seeded(8)).newPicker(list);
        placeLongConnections(p, 10_000);
        int max = 0;
        for (FakeEndpoint s : list) {
            max = Math.max(max, s.load());
        }
        // Uniform random would give a maximum around 130 here; two choices keep it near the mean of 100.
        assertThat(max).isLessThanOrEqualTo(104);
    }

    @Test
    void leastResponseTimeAvoidsASlowServer() {
        List<FakeEndpoint> list = servers(1, 1, 1);
        long now = 1_000_000_000L;
        list.get(0).latency().record(100_000_000, now);
        list.get(1).latency().record(10_000_000, now);
        list.get(2).latency().record(10_000_000, now);
        Picker<FakeEndpoint> p = new LeastResponseTime(NO_RAMP, Rng.seeded(9)).newPicker(list);
        // Every pick is answered in the server's own time, so the slow one's probes keep measuring it slow.
        Map<FakeEndpoint, Integer> c = new java.util.HashMap<>();
        for (int i = 0; i < 10_000; i++) {
            FakeEndpoint s = p.pick(new PickContext(null));
            now += 1_000_000;
            s.latency().record(s == list.get(0) ? 100_000_000 : 10_000_000, now);
            c.merge(s, 1, Integer::sum);
        }
        // Probed about once per MISS_HALF_LIFE * log2(10) lost comparisons: a few percent, never starved.
        assertThat(c.get(list.get(0)) / 10_000.0).isBetween(0.01, 0.15);
        assertThat(c.get(list.get(1)) / 10_000.0).isCloseTo(c.get(list.get(2)) / 10_000.0, within(0.03));
    }

    @Test
    void leastResponseTimeWeighsLatencyByOutstandingWork() {
        List<FakeEndpoint> list = servers(1, 1);
        long now = 1_000_000_000L;
        list.get(0).latency().record(10_000_000, now);
        list.get(1).latency().record(30_000_000, now);
        // 10 ms × (3 + 1) outstanding = 40 > 30 ms × (0 + 1): the slower but idle server is cheaper now.
        list.get(0).load(3);
        Picker<FakeEndpoint> p = new LeastResponseTime(NO_RAMP, Rng.seeded(10)).newPicker(list);
        assertThat(p.pick(new PickContext(null))).isSameAs(list.get(1));
        list.get(0).load(1);
        assertThat(p.pick(new PickContext(null))).isSameAs(list.get(0));
    }

    @Test
    void leastResponseTimeProbesAnUnmeasuredServerOneRequestAtATime() {
        List<FakeEndpoint> list = servers(1, 1);
        long now = 1_000_000_000L;
        list.get(0).latency().record(10_000_000, now);
        FakeEndpoint fresh = list.get(1);
        Picker<FakeEndpoint> p = new LeastResponseTime(NO_RAMP, Rng.seeded(11)).newPicker(list);
        assertThat(p.pick(new PickContext(null))).isSameAs(fresh);
        fresh.addLoad();
        assertThat(p.pick(new PickContext(null))).isSameAs(list.get(0));
    }

    @Test
    void anOldSlowSampleFadesSoTheServerIsTriedAgain() {
        List<FakeEndpoint> list = servers(1, 1);
        long tau = Duration.ofSeconds(10).toNanos();
        list.get(0).latency().record(100_000_000, 0);
        list.get(1).latency().record(20_000_000, 5 * tau);
        // Five time constants later 100 ms has faded below 1 ms: the once-slow server is the cheaper one.
        Picker<FakeEndpoint> p = new LeastResponseTime(NO_RAMP, Rng.seeded(12)).newPicker(list);
        assertThat(p.pick(new PickContext(null))).isSameAs(list.get(0));
    }

    /** The clock-free comparison a pick makes agrees with comparing each server's cost at a common instant. */
    @Test
    void pickComparisonAgreesWithCostsAtOneInstant() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(13);
        long tau = Duration.ofSeconds(10).toNanos();
        for (int k = 0; k < 20_000; k++) {
            List<FakeEndpoint> pair = servers(1 + r.nextInt(5), 1 + r.nextInt(5));
            long[] stamps = new long[2];
            for (int i = 0; i < 2; i++) {
                stamps[i] = r.nextLong(1, 20 * tau);
                if (r.nextInt(5) > 0) {
                    pair.get(i).latency().record(r.nextLong(1, 500_000_000), stamps[i]);
                }
                pair.get(i).load(r.nextInt(3));
                for (int m = r.nextInt(4) == 0 ? r.nextInt(40) : 0; m > 0; m--) {
                    pair.get(i).latency().missedPick();
                }
            }
            long now = Math.max(stamps[0], stamps[1]) + r.nextLong(0, tau);
            double ia = 1.0 / pair.get(0).weight();
            double ib = 1.0 / pair.get(1).weight();
            double costA = LeastResponseTime.cost(pair.get(0), now) * ia;
            double costB = LeastResponseTime.cost(pair.get(1), now) * ib;
            if (Math.abs(costA - costB) <= 1e-9 * Math.max(costA, costB)) {
                continue;
            }
            assertThat(LeastResponseTime.cheaper(pair.get(1), ib, pair.get(0), ia)).as("case %d", k)
                    .isEqualTo(costB < costA);
        }
    }

    @Test
    void peakEwmaJumpsToPeaksAndDecaysOverTime() {
        PeakEwma e = new PeakEwma();
        e.decay(Duration.ofSeconds(1));
        long t = 0;
        e.record(10_000_000, t);
        assertThat(e.cost(t)).isEqualTo(10_000_000);
        e.record(50_000_000, t + 1);
        assertThat(e.cost(t + 1)).as("a peak replaces the estimate at once").isEqualTo(50_000_000);
        // A low sample one time constant later keeps 1/e of the old estimate.
        e.record(10_000_000, t + 1 + 1_000_000_000L);
        double expected = 50e6 * Math.exp(-1) + 10e6 * (1 - Math.exp(-1));
        assertThat(e.cost(t + 1 + 1_000_000_000L)).isCloseTo(expected, within(1.0));
        // With no traffic, reads decay the estimate so the server gets tried again.
        assertThat(e.cost(t + 1 + 6_000_000_000L)).isLessThan(expected / 100);
    }
}
