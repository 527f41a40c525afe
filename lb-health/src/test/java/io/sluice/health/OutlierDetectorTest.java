package io.sluice.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.util.concurrent.DefaultEventExecutor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class OutlierDetectorTest {
    private final DefaultEventExecutor executor = new DefaultEventExecutor();
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final OutlierDetector.Listener listener = new OutlierDetector.Listener() {
        @Override
        public void ejected(OutlierDetector.Tracker t, String reason) {
            events.add(t.label() + " ejected " + reason);
        }

        @Override
        public void returned(OutlierDetector.Tracker t, String reason) {
            events.add(t.label() + " returned");
        }
    };

    @AfterEach
    void tearDown() {
        executor.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void consecutiveFailuresEjectAndEachEjectionLastsLonger() {
        OutlierDetector d = new OutlierDetector(new OutlierDetector.Settings(3, Duration.ofMillis(150),
                Duration.ofSeconds(10), 100), executor, listener);
        OutlierDetector.Tracker a = d.track("a", null);
        d.failure(a);
        d.failure(a);
        d.success(a); // run broken
        d.failure(a);
        d.failure(a);
        assertThat(a.ejected()).isFalse();
        d.failure(a);
        assertThat(a.ejected()).isTrue();
        assertThat(events).containsExactly("a ejected after 3 consecutive failures, for 150ms");
        await().atMost(Duration.ofSeconds(5)).until(() -> !a.ejected());

        for (int i = 0; i < 3; i++) {
            d.failure(a);
        }
        assertThat(events).contains("a ejected after 3 consecutive failures, for 300ms");
        await().atMost(Duration.ofSeconds(5)).until(() -> !a.ejected());
        assertThat(a.ejections()).isEqualTo(2);
    }

    @Test
    void ejectionTimeIsCapped() {
        OutlierDetector d = new OutlierDetector(new OutlierDetector.Settings(1, Duration.ofMillis(100),
                Duration.ofMillis(150), 100), executor, listener);
        OutlierDetector.Tracker a = d.track("a", null);
        d.failure(a);
        await().atMost(Duration.ofSeconds(5)).until(() -> !a.ejected());
        d.failure(a);
        await().atMost(Duration.ofSeconds(5)).until(() -> !a.ejected());
        d.failure(a);
        assertThat(events).filteredOn(e -> e.contains("ejected")).containsExactly(
                "a ejected after 1 consecutive failures, for 100ms",
                "a ejected after 1 consecutive failures, for 150ms",
                "a ejected after 1 consecutive failures, for 150ms");
    }

    @Test
    void maxEjectionPercentKeepsPartOfTheGroupServing() {
        OutlierDetector d = new OutlierDetector(new OutlierDetector.Settings(1, Duration.ofSeconds(30),
                Duration.ofSeconds(30), 50), executor, listener);
        List<OutlierDetector.Tracker> ts = List.of(d.track("a", null), d.track("b", null), d.track("c", null), d.track("d", null));
        ts.forEach(d::failure);
        assertThat(ts.stream().filter(OutlierDetector.Tracker::ejected).count()).isEqualTo(2);
        assertThat(d.ejectedCount()).isEqualTo(2);
    }

    @Test
    void anUntrackedTargetLeavesTheShareAndItsEjection() {
        OutlierDetector d = new OutlierDetector(new OutlierDetector.Settings(1, Duration.ofSeconds(30),
                Duration.ofSeconds(30), 50), executor, listener);
        OutlierDetector.Tracker a = d.track("a", null);
        OutlierDetector.Tracker b = d.track("b", null);
        d.failure(a);
        assertThat(a.ejected()).isTrue();
        d.failure(b);
        assertThat(b.ejected()).as("50% of two: only one may be out").isFalse();
        d.untrack(a); // its server was removed: its ejection must not hold the share any more
        d.untrack(a);
        assertThat(d.ejectedCount()).isZero();
        d.failure(a);
        assertThat(a.ejected()).as("an untracked target counts no failures").isFalse();
        OutlierDetector.Tracker c = d.track("c", null);
        d.failure(b);
        assertThat(b.ejected()).as("one of b and c may be out now").isTrue();
        assertThat(c.ejected()).isFalse();
    }

    @Test
    void panicRule() {
        assertThat(PanicThreshold.inPanic(1, 4, 50)).isTrue();
        assertThat(PanicThreshold.inPanic(2, 4, 50)).isFalse();
        assertThat(PanicThreshold.inPanic(0, 4, 50)).isFalse();
        assertThat(PanicThreshold.inPanic(1, 4, 0)).isFalse();
    }
}
