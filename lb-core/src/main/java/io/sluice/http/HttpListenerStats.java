package io.sluice.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-reason error counts of one HTTP listener, indexed by {@link ErrorReason#ordinal()}, and the answers it gave
 * to requests refused before any route was chosen (malformed, too large, too slow), by status class.
 */
public final class HttpListenerStats {
    private final LongAdder[] errors = new LongAdder[ErrorReason.values().length];
    private final LongAdder[] refused = new LongAdder[6];

    HttpListenerStats() {
        for (int i = 0; i < errors.length; i++) {
            errors[i] = new LongAdder();
        }
        for (int i = 0; i < refused.length; i++) {
            refused[i] = new LongAdder();
        }
    }

    void count(ErrorReason reason) {
        errors[reason.ordinal()].increment();
    }

    public long errors(ErrorReason reason) {
        return errors[reason.ordinal()].sum();
    }

    void countRefused(int status) {
        int c = status / 100;
        if (c >= 1 && c <= 5) {
            refused[c].increment();
        }
    }

    /** Answers to requests that never reached a route, with status class {@code statusClass} (1 to 5). */
    public long refused(int statusClass) {
        return refused[statusClass].sum();
    }
}
