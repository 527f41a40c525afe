package io.sluice.balance;

import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The randomness a picker draws from. Production uses {@link #THREAD_LOCAL} (per-thread, lock-free and
 * allocation-free); tests inject {@link #seeded(long)} so that a property test fails the same way every run.
 */
public interface Rng {

    /** Uniform in [0, bound); bound > 0. */
    int nextInt(int bound);

    /** Uniform in [0, 1). */
    double nextDouble();

    Rng THREAD_LOCAL = new Rng() {
        @Override
        public int nextInt(int bound) {
            return ThreadLocalRandom.current().nextInt(bound);
        }

        @Override
        public double nextDouble() {
            return ThreadLocalRandom.current().nextDouble();
        }
    };

    /** A deterministic source for tests; not thread-safe. */
    static Rng seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Rng() {
            @Override
            public int nextInt(int bound) {
                return r.nextInt(bound);
            }

            @Override
            public double nextDouble() {
                return r.nextDouble();
            }
        };
    }
}
