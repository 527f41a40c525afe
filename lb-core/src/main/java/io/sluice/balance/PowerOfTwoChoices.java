package io.sluice.balance;

import io.sluice.config.BalancerConfig;
import java.util.List;

/**
 * Power of two choices (Mitzenmacher): two distinct servers drawn at random, the one with the lower
 * {@code (load + 1) / weight} wins. O(1) per pick at any cluster size, and it avoids the herd effect of a
 * global least-loaded choice when several Sluice threads or instances pick at once from slightly stale loads.
 */
public final class PowerOfTwoChoices implements LoadBalancer {
    private final SlowStart slowStart;
    private final Rng rng;

    public PowerOfTwoChoices(SlowStart slowStart, Rng rng) {
        this.slowStart = slowStart;
        this.rng = rng;
    }

    @Override
    public <E extends Endpoint> Picker<E> newPicker(List<E> list) {
        return Pickers.twoChoices(Pickers.array(list), Pickers.inverse(slowStart.weights(list)), rng,
                (b, invB, a, invA) -> (b.load() + 1) * invB < (a.load() + 1) * invA);
    }

    public static final class Provider implements LoadBalancerProvider {
        @Override
        public String name() {
            return "power_of_two_choices";
        }

        @Override
        public LoadBalancer create(BalancerConfig config) {
            return new PowerOfTwoChoices(SlowStart.of(config.slowStart()), Rng.THREAD_LOCAL);
        }
    }
}
