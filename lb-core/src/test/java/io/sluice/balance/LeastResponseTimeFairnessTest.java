package io.sluice.balance;

import static io.sluice.balance.TestServers.servers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntBinaryOperator;
import org.junit.jupiter.api.Test;

/**
 * least_response_time does not starve a healthy server: sequential requests on a simulated clock, each answered in
 * the latency the test gives the server for its n-th response.
 */
class LeastResponseTimeFairnessTest {
    private static final SlowStart NO_RAMP = SlowStart.of(Duration.ZERO);
    private static final long MS = 1_000_000L;

    /**
     * Runs {@code n} sequential requests; {@code latency} maps (server index, its response number) to nanoseconds.
     * Returns the server index of every request.
     */
    private static int[] run(List<FakeEndpoint> list, long seed, int n, IntBinaryOperator latencyMs) {
        Picker<FakeEndpoint> p = new LeastResponseTime(NO_RAMP, Rng.seeded(seed)).newPicker(list);
        int[] served = new int[list.size()];
        int[] order = new int[n];
        long now = 5_000 * MS;
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < n; i++) {
            ctx.reset();
            FakeEndpoint s = p.pick(ctx);
            int k = list.indexOf(s);
            long took = latencyMs.applyAsInt(k, served[k]++) * MS / 10;
            s.addLoad();
            now += took;
            s.load(0);
            s.latency().record(took, now);
            order[i] = k;
        }
        return order;
    }

    private static int[] shares(int[] order, int from, int to, int servers) {
        int[] c = new int[servers];
        for (int i = from; i < to; i++) {
            c[order[i]]++;
        }
        return c;
    }

    /** Every window of {@code window} requests gives each server at least half its fair share. */
    private static void assertFairInEveryWindow(int[] order, int servers, int window) {
        for (int from = 0; from + window <= order.length; from += 25) {
            int[] c = shares(order, from, from + window, servers);
            for (int k = 0; k < servers; k++) {
                assertThat(c[k]).as("server %d in requests %d..%d", k, from, from + window)
                        .isGreaterThanOrEqualTo(window / servers / 2);
            }
        }
    }

    @Test
    void aServerWhoseFirstResponsesWereSlowGetsItsShareRightAfterStartUp() {
        for (long seed = 1; seed <= 20; seed++) {
            List<FakeEndpoint> list = servers(1, 1, 1);
            // Server 0 answers its first 3 requests in 200 ms, then like the others in about 1 ms (tenths of ms).
            SplittableRandom noise = new SplittableRandom(seed);
            int[] order = run(list, seed, 3_000, (k, nth) -> k == 0 && nth < 3 ? 2_000 : 8 + noise.nextInt(5));
            assertFairInEveryWindow(order, 3, 300);
        }
    }

    @Test
    void identicalServersWithNoisyLatencyShareFairly() {
        for (long seed = 1; seed <= 20; seed++) {
            List<FakeEndpoint> list = servers(1, 1, 1, 1);
            SplittableRandom noise = new SplittableRandom(seed);
            // Mostly 1 ms, and now and then a 20 ms hiccup on any server (a GC pause, a cold cache).
            int[] order = run(list, seed, 3_000, (k, nth) -> noise.nextInt(50) == 0 ? 200 : 8 + noise.nextInt(5));
            assertFairInEveryWindow(order, 4, 300);
        }
    }

    @Test
    void aTrulySlowServerStillGetsLittle() {
        List<FakeEndpoint> list = servers(1, 1, 1);
        // Server 0 always takes 50 ms more than the others' 1 ms.
        int[] order = run(list, 7, 3_000, (k, nth) -> k == 0 ? 510 : 10);
        int[] c = shares(order, 0, order.length, 3);
        assertThat(c[0]).as("probes only").isGreaterThan(0).isLessThan(3_000 / 10);
        assertThat(c[1] / 3_000.0).isCloseTo(c[2] / 3_000.0, within(0.05));
    }

    @Test
    void everyMissedPickHalvesTheEstimate() {
        assertThat(PeakEwma.MISS_HALF_LIFE).isEqualTo(1);
        PeakEwma e = new PeakEwma();
        long t = 1_000 * MS;
        e.record(64 * MS, t);
        assertThat(e.cost(t)).isEqualTo(64.0 * MS);
        e.missedPick();
        assertThat(e.cost(t)).isCloseTo(32.0 * MS, within(1.0));
        for (int i = 0; i < 3; i++) {
            e.missedPick();
        }
        assertThat(e.missedPicks()).isEqualTo(4);
        assertThat(e.cost(t)).isCloseTo(4.0 * MS, within(1.0));
        // Picked: the decay so far stays in the estimate, the count restarts.
        e.picked();
        assertThat(e.missedPicks()).isZero();
        assertThat(e.lastCost()).isCloseTo(4.0 * MS, within(1.0));
        assertThat(e.cost(t)).isCloseTo(4.0 * MS, within(1.0));
        // A fast answer then blends into the decayed estimate; a slow one replaces it as a peak.
        e.record(1 * MS, t);
        assertThat(e.cost(t)).isCloseTo(4.0 * MS, within(1.0));
        e.record(50 * MS, t);
        assertThat(e.cost(t)).isEqualTo(50.0 * MS);
    }

    @Test
    void missedPicksAndTimeDecayTogether() {
        PeakEwma e = new PeakEwma();
        e.decay(Duration.ofSeconds(1));
        e.record(100 * MS, 0);
        e.missedPick();
        e.missedPick();
        // One time constant and two halvings.
        assertThat(e.cost(1_000 * MS)).isCloseTo(25.0 * MS * Math.exp(-1), within(1.0));
    }

    @Test
    void theMissCountIsBounded() {
        PeakEwma e = new PeakEwma();
        e.record(100 * MS, 0);
        for (int i = 0; i < 5_000; i++) {
            e.missedPick();
        }
        assertThat(e.missedPicks()).isLessThanOrEqualTo(1024);
        // Next to nothing, yet never exactly 0, which would read as "not measured yet".
        assertThat(e.cost(0)).isLessThan(1e-100).isPositive();
        e.picked();
        assertThat(e.lastCost()).isLessThan(1e-100).isPositive();
    }
}
