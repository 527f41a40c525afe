package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;

/**
 * Peak-EWMA, as Finagle and Linkerd balance: the cost of a server is its peak-EWMA latency
 * ({@link Endpoint#latency()}, decayed over {@code ewma_decay}) times {@code (outstanding + 1)}, divided by its
 * weight; two servers are drawn at random and the cheaper wins (power of two choices, as both do). The loser's
 * estimate decays a step ({@link PeakEwma#missedPick()}), so no server goes unprobed for more than a bounded
 * number of picks: with identical servers a slow start (a cold server, a new connection) costs a few dozen
 * requests of its share, not the seconds a time decay takes, and a truly slow server still gets only its
 * probes. A server
 * with no latency sample yet costs nothing while idle, then Finagle's large penalty while it has work in
 * flight, so a new server gets a probe's worth of traffic until its first response measures it.
 */
public final class LeastResponseTime implements LoadBalancer {
    /** Finagle's penalty for a server with work outstanding and no latency measured yet. */
    static final double PENALTY = Long.MAX_VALUE >> 16;

    private final SlowStart slowStart;
    private final Rng rng;

    public LeastResponseTime(SlowStart slowStart, Rng rng) {
        this.slowStart = slowStart;
        this.rng = rng;
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> list) {
        return Pickers.twoChoices(Pickers.array(list), Pickers.inverse(slowStart.weights(list)), rng,
                LeastResponseTime::choose);
    }

    /** Compares, then tells both servers the outcome: the winner is picked, the loser missed a pick. */
    static boolean choose(Endpoint b, double invB, Endpoint a, double invA) {
        boolean preferB = cheaper(b, invB, a, invA);
        (preferB ? a : b).latency().missedPick();
        (preferB ? b : a).latency().picked();
        return preferB;
    }

    /**
     * Whether {@code b} costs strictly less than {@code a} now. Both estimates decay by the same
     * {@code exp(-now / tau)}, which cancels out: the comparison needs one {@code exp} of the difference of
     * their sample times and no clock read, instead of a clock read and two {@code exp}s.
     */
    static boolean cheaper(Endpoint b, double invB, Endpoint a, double invA) {
        double ca = a.latency().lastCost();
        double cb = b.latency().lastCost();
        int la = a.load();
        int lb = b.load();
        if (ca == 0 || cb == 0) {
            // An unmeasured server costs 0 while idle and PENALTY + outstanding once busy; measured latencies
            // are far below PENALTY, so no decay is needed to compare with one.
            double xa = ca == 0 ? (la == 0 ? 0 : PENALTY + la) : ca * (la + 1) * invA;
            double xb = cb == 0 ? (lb == 0 ? 0 : PENALTY + lb) : cb * (lb + 1) * invB;
            if (ca == 0 && cb == 0) {
                return xb * invB < xa * invA;
            }
            if (ca == 0) {
                return la != 0 && xb < PENALTY;
            }
            return lb == 0 || PENALTY + lb < xa;
        }
        double x = (b.latency().stampNanos() - a.latency().stampNanos()) / a.latency().tauNanos()
                + (a.latency().missedPicks() - b.latency().missedPicks()) * PeakEwma.MISS_RATE;
        // b's estimate is the more recent by x time constants and missed fewer picks: scale a's down by exp(-x)
        // to compare.
        double decayA = Math.exp(-Math.max(-700, Math.min(700, x)));
        return cb * (lb + 1) * invB < ca * decayA * (la + 1) * invA;
    }

    /** A server's cost as of {@code now}: for tests and the admin view. */
    static double cost(Endpoint s, long now) {
        double latency = s.latency().cost(now);
        int outstanding = s.load();
        if (latency == 0 && outstanding != 0) {
            return PENALTY + outstanding;
        }
        return latency * (outstanding + 1);
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "least_response_time";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new LeastResponseTime(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL);
        }
    }
}
