package io.sluice.http;

import java.util.concurrent.atomic.LongAdder;

/** Per-reason error counts of one HTTP listener, indexed by {@link ErrorReason#ordinal()}. */
public final class HttpListenerStats {
    private final LongAdder[] errors = new LongAdder[ErrorReason.values().length];

    HttpListenerStats() {
        for (int i = 0; i < errors.length; i++) {
            errors[i] = new LongAdder();
        }
    }

    void count(ErrorReason reason) {
        errors[reason.ordinal()].increment();
    }

    public long errors(ErrorReason reason) {
        return errors[reason.ordinal()].sum();
    }
}
