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

    /** 64 uniform bits: pickers that need two draws take both from one call. */
    long nextLong();

    /** Maps 32 random bits onto [0, bound) with a multiply instead of a division (Lemire). */
    static int reduce(long bits32, int bound) {
        return (int) (((bits32 & 0xFFFFFFFFL) * bound) >>> 32);
    }

    Rng THREAD_LOCAL = new Rng() {
        @Override
        public int nextInt(int bound) {
            return ThreadLocalRandom.current().nextInt(bound);
        }

        @Override
        public double nextDouble() {
            return ThreadLocalRandom.current().nextDouble();
        }

        @Override
        public long nextLong() {
            return ThreadLocalRandom.current().nextLong();
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

            @Override
            public long nextLong() {
                return r.nextLong();
            }
        };
    }
}
