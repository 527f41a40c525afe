package io.sluice.balance;

import static io.sluice.balance.TestServers.count;
import static io.sluice.balance.TestServers.servers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A server that comes back ramps from a small share to its full weight over the window. */
class SlowStartTest {
    private static final long WINDOW = Duration.ofSeconds(60).toNanos();
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);
    private final SlowStart slowStart = new SlowStart(Duration.ofNanos(WINDOW), clock::get);

    @Test
    void factorRampsLinearlyFromTheMinimumShare() {
        FakeEndpoint s = TestServers.server(0, 4);
        assertThat(slowStart.factor(s)).as("present from the start: full weight").isEqualTo(1.0);
        s.startSlowStart(clock.get());
        assertThat(slowStart.factor(s)).isEqualTo(SlowStart.MIN_SHARE);
        clock.addAndGet(WINDOW / 2);
        assertThat(slowStart.factor(s)).isCloseTo(0.5, within(1e-9));
        clock.addAndGet(WINDOW / 2);
        assertThat(slowStart.factor(s)).isEqualTo(1.0);
        assertThat(SlowStart.of(Duration.ZERO).factor(s)).isEqualTo(1.0);
    }

    /** The returning server's share of picks at a quarter of its window, for each weighted algorithm. */
    @Test
    void everyWeightedAlgorithmGivesARampingServerItsReducedShare() {
        List<LoadBalancer> balancers = List.of(new SmoothWeightedRoundRobin(slowStart),
                new WeightedRandom(slowStart, Rng.seeded(1)), new LeastConnections(slowStart, Rng.seeded(2)),
                new Maglev(HashKey.SOURCE_IP, new RoundRobin(), slowStart, 65537),
                new RingHash(HashKey.SOURCE_IP, new RoundRobin(), slowStart, 400));
        for (LoadBalancer lb : balancers) {
            List<FakeEndpoint> list = servers(2, 2, 2);
            FakeEndpoint back = list.get(0);
            back.startSlowStart(clock.get() - WINDOW / 4);
            Picker<FakeEndpoint> p = lb.newPicker(list);
            int picks = 60_000;
            Map<FakeEndpoint, Integer> c;
            if (lb instanceof LeastConnections) {
                c = new java.util.IdentityHashMap<>();
                PickContext ctx = new PickContext(null);
                for (int i = 0; i < 900; i++) {
                    FakeEndpoint s = p.pick(ctx);
                    s.addLoad();
                    c.merge(s, 1, Integer::sum);
                }
                picks = 900;
            } else if (lb instanceof HashingBalancer) {
                c = new java.util.IdentityHashMap<>();
                PickContext ctx = new PickContext(null);
                for (int i = 0; i < picks; i++) {
                    ctx.hash(XxHash64.hashLong(i, 3));
                    c.merge(p.pick(ctx), 1, Integer::sum);
                }
            } else {
                c = count(p, picks);
            }
            // Weights 0.5, 2, 2: the returning server gets a ninth.
            assertThat(c.get(back) / (double) picks).as(lb.getClass().getSimpleName())
                    .isCloseTo(0.5 / 4.5, within(0.012));
        }
    }

    @Test
    void powerOfTwoChoicesPrefersAFullyWarmServerOverARampingOneAtEqualLoad() {
        List<FakeEndpoint> list = servers(1, 1);
        list.get(0).startSlowStart(clock.get());
        Picker<FakeEndpoint> p = new PowerOfTwoChoices(slowStart, Rng.seeded(3)).newPicker(list);
        assertThat(count(p, 100).get(list.get(1))).isEqualTo(100);
    }
}
