package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The retry budget over a sliding window, on a clock the test moves. */
class RetryBudgetTest {
    private long now = 123_456_789L;

    private RetryBudget budget(int percent) {
        return new RetryBudget(percent, null, () -> now);
    }

    private void advance(long millis) {
        now += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    private static int retriesAllowed(RetryBudget b, int attempts) {
        int n = 0;
        for (int i = 0; i < attempts; i++) {
            if (b.tryRetry()) {
                n++;
            }
        }
        return n;
    }

    @Test
    void aLongQuietUptimeDoesNotPayForAnOutage() {
        RetryBudget b = budget(20);
        // An hour of successes at 100 requests a second: 360,000 requests, no retries.
        for (int s = 0; s < 3600; s++) {
            for (int i = 0; i < 100; i++) {
                b.request();
            }
            advance(1000);
        }
        // The outage: every request fails and wants a retry, at the same 100 a second, for a minute.
        long retried = 0;
        for (int s = 0; s < 60; s++) {
            for (int i = 0; i < 100; i++) {
                b.request();
                if (b.tryRetry()) {
                    retried++;
                }
            }
            advance(1000);
            // At no time do the retries of the last window exceed 20% of its requests (1,000 in 10 s).
            assertThat(retried).isLessThanOrEqualTo((s + RetryBudget.WINDOW_SECONDS) * 100 * 20 / 100);
        }
        // Counted since start, 20% of 366,000 requests would have allowed all 6,000; the window allows about
        // 20 a second.
        assertThat(retried).isBetween(60L * 20 - 200, 60L * 20 + 200);
        assertThat(b.retries()).isEqualTo(retried);
    }

    @Test
    void retriesAreAShareOfTheRequestsOfTheWindow() {
        RetryBudget b = budget(10);
        for (int i = 0; i < 200; i++) {
            b.request();
        }
        assertThat(retriesAllowed(b, 100)).isEqualTo(20);
        // Still within the window: nothing more.
        advance(9_000);
        assertThat(retriesAllowed(b, 100)).isZero();
        // Once the requests and retries leave the window, only the floor remains.
        advance(1_000);
        assertThat(retriesAllowed(b, 100)).isEqualTo(RetryBudget.MIN_RETRIES);
    }

    @Test
    void aQuietListenerMayAlwaysRetryAFewTimesPerWindow() {
        RetryBudget b = budget(20);
        assertThat(retriesAllowed(b, 10)).isEqualTo(RetryBudget.MIN_RETRIES);
        advance(5_000);
        assertThat(retriesAllowed(b, 10)).isZero();
        advance(5_000);
        assertThat(retriesAllowed(b, 10)).isEqualTo(RetryBudget.MIN_RETRIES);
    }

    @Test
    void zeroPercentAllowsNone() {
        RetryBudget b = budget(0);
        b.request();
        assertThat(b.tryRetry()).isFalse();
    }

    @Test
    void aReloadKeepsTheWindowAndChangesTheShare() {
        RetryBudget b = budget(10);
        for (int i = 0; i < 100; i++) {
            b.request();
        }
        assertThat(retriesAllowed(b, 100)).isEqualTo(10);
        RetryBudget reloaded = new RetryBudget(30, b);
        assertThat(retriesAllowed(reloaded, 100)).isEqualTo(20);
        assertThat(reloaded.retries()).isEqualTo(30);
    }

    @Test
    void aClockThatStartsAnywhereWorks() {
        now = Long.MAX_VALUE - 2_000_000_000L; // nanoTime may be anywhere, and wraps
        RetryBudget b = budget(50);
        for (int i = 0; i < 10; i++) {
            b.request();
        }
        advance(3_000);
        for (int i = 0; i < 10; i++) {
            b.request();
        }
        assertThat(retriesAllowed(b, 100)).isEqualTo(10);
    }
}
