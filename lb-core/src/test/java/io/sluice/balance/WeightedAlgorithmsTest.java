package io.sluice.balance;

import static io.sluice.balance.TestServers.count;
import static io.sluice.balance.TestServers.servers;
import static io.sluice.balance.TestServers.weightShare;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Shares follow weights, and smooth WRR spreads each server's picks out. */
class WeightedAlgorithmsTest {
    private static final SlowStart NO_RAMP = SlowStart.of(Duration.ZERO);

    @Test
    void weightedRandomSharesFollowWeights() {
        List<FakeEndpoint> list = servers(1, 2, 3, 4, 10);
        Picker<FakeEndpoint> p = new WeightedRandom(NO_RAMP, Rng.seeded(42)).newPicker(list);
        int picks = 200_000;
        Map<FakeEndpoint, Integer> c = count(p, picks);
        for (FakeEndpoint s : list) {
            // Binomial std dev here is at most ~0.0011; 0.005 is over 4 sigma.
            assertThat(c.get(s) / (double) picks).as(s.label()).isCloseTo(weightShare(list, s), within(0.005));
        }
    }

    @Test
    void weightedRandomWithEqualWeightsIsUniform() {
        List<FakeEndpoint> list = servers(5, 5, 5, 5);
        Map<FakeEndpoint, Integer> c = count(new WeightedRandom(NO_RAMP, Rng.seeded(7)).newPicker(list), 100_000);
        for (FakeEndpoint s : list) {
            assertThat(c.get(s) / 100_000.0).isCloseTo(0.25, within(0.01));
        }
    }

    @Test
    void smoothWrrSharesAreExactOverWholeCycles() {
        List<FakeEndpoint> list = servers(1, 2, 3, 4, 10);
        Map<FakeEndpoint, Integer> c = count(new SmoothWeightedRoundRobin(NO_RAMP).newPicker(list), 20 * 1000);
        for (FakeEndpoint s : list) {
            assertThat(c.get(s)).isEqualTo(s.weight() * 1000);
        }
    }

    @Test
    void smoothWrrMatchesNginxOrder() {
        List<FakeEndpoint> list = servers(5, 1, 1);
        Picker<FakeEndpoint> p = new SmoothWeightedRoundRobin(NO_RAMP).newPicker(list);
        PickContext ctx = new PickContext(null);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 7; i++) {
            order.append((char) ('a' + list.indexOf(p.pick(ctx))));
        }
        assertThat(order.toString()).isEqualTo("aabacaa");
    }

    /**
     * Smoothness: in every window of consecutive picks (also across the cycle's end, as the cycle repeats
     * forever), no server gets more than one pick beyond its weight share of that window rounded up. So a run
     * of one server is never more than one pick longer than its weight forces; with weights 5,1,1 the
     * longest run is 4 (a a | a a across cycles), where a plain weighted round robin sends 5 in a row.
     */
    @Test
    void smoothWrrNeverSendsMoreThanOneExtraPickInAnyWindow() {
        SplittableRandom r = new SplittableRandom(2024);
        for (int trial = 0; trial < 60; trial++) {
            int n = 2 + r.nextInt(7);
            int[] w = new int[n];
            for (int i = 0; i < n; i++) {
                w[i] = 1 + r.nextInt(r.nextBoolean() ? 5 : 50);
            }
            List<FakeEndpoint> list = servers(w);
            int total = 0;
            for (int x : w) {
                total += x;
            }
            Picker<FakeEndpoint> p = new SmoothWeightedRoundRobin(NO_RAMP).newPicker(list);
            PickContext ctx = new PickContext(null);
            int[] seq = new int[2 * total];
            for (int k = 0; k < seq.length; k++) {
                seq[k] = list.indexOf(p.pick(ctx));
            }
            for (int start = 0; start < total; start++) {
                int[] got = new int[n];
                for (int len = 1; len <= total; len++) {
                    int i = seq[start + len - 1];
                    got[i]++;
                    int allowed = (len * w[i] + total - 1) / total + 1;
                    if (got[i] > allowed) {
                        throw new AssertionError("weights " + java.util.Arrays.toString(w) + ": server " + i
                                + " got " + got[i] + " of " + len + " picks from " + start + ", allowed " + allowed);
                    }
                }
            }
        }
    }

    @Test
    void roundRobinVisitsEveryServerInTurn() {
        List<FakeEndpoint> list = servers(1, 9, 1);
        Map<FakeEndpoint, Integer> c = count(new RoundRobin().newPicker(list), 3000);
        assertThat(c.values()).containsOnly(1000);
    }

    @Test
    void retriesAvoidTriedServers() {
        List<FakeEndpoint> list = servers(1, 1, 1);
        List<LoadBalancer> balancers = new ArrayList<>(List.of(new RoundRobin(),
                new SmoothWeightedRoundRobin(NO_RAMP), new WeightedRandom(NO_RAMP, Rng.seeded(1)),
                new LeastConnections(NO_RAMP, Rng.seeded(1)), new PowerOfTwoChoices(NO_RAMP, Rng.seeded(1)),
                new LeastResponseTime(NO_RAMP, Rng.seeded(1))));
        for (LoadBalancer lb : balancers) {
            Picker<FakeEndpoint> p = lb.newPicker(list);
            for (int k = 0; k < 50; k++) {
                PickContext ctx = new PickContext(null);
                FakeEndpoint a = p.pick(ctx);
                ctx.markTried(a);
                FakeEndpoint b = p.pick(ctx);
                ctx.markTried(b);
                FakeEndpoint c = p.pick(ctx);
                ctx.markTried(c);
                assertThat(List.of(a, b, c)).as(lb.getClass().getSimpleName()).doesNotHaveDuplicates();
                assertThat(p.pick(ctx)).as(lb.getClass().getSimpleName()).isNull();
            }
        }
    }
}
