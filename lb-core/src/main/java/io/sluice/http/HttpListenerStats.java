package io.sluice.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * Per-reason error counts of one HTTP listener, indexed by {@link ErrorReason#ordinal()}, and the answers it gave
 * to requests refused before any route was chosen (malformed, too large, too slow), by status class.
 */
public final class HttpListenerStats {
    private final LongAdder[] errors = new LongAdder[ErrorReason.values().length];
    /** By protocol and status class, as {@link Route}'s responses. */
    private final LongAdder[] refused = new LongAdder[6 * HttpProtocol.values().length];
    private final LongAdder[] goaways = new LongAdder[GoAwayReason.values().length];

    HttpListenerStats() {
        for (int i = 0; i < errors.length; i++) {
            errors[i] = new LongAdder();
        }
        for (int i = 0; i < refused.length; i++) {
            refused[i] = new LongAdder();
        }
        for (int i = 0; i < goaways.length; i++) {
            goaways[i] = new LongAdder();
        }
    }

    void count(ErrorReason reason) {
        errors[reason.ordinal()].increment();
    }

    public long errors(ErrorReason reason) {
        return errors[reason.ordinal()].sum();
    }

    void countRefused(HttpProtocol protocol, int status) {
        int c = status / 100;
        if (c >= 1 && c <= 5) {
            refused[protocol.ordinal() * 6 + c].increment();
        }
    }

    /** Answers to requests that never reached a route, with status class {@code statusClass} (1 to 5). */
    public long refused(HttpProtocol protocol, int statusClass) {
        return refused[protocol.ordinal() * 6 + statusClass].sum();
    }

    void countGoAway(GoAwayReason reason) {
        goaways[reason.ordinal()].increment();
    }

    /** HTTP/2 connections Sluice ended with GOAWAY, for {@code reason}. */
    public long goaways(GoAwayReason reason) {
        return goaways[reason.ordinal()].sum();
    }
}
