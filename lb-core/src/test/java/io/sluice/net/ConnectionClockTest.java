package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The timers of one connection on one clock: each fires once at its own deadline, whichever of them armed the
 * clock's task; closing one leaves the others running, closing the clock stops them all.
 */
class ConnectionClockTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final List<String> fired = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Named extends ConnectionClock.Timer {
        private final String name;

        Named(ConnectionClock clock, String name) {
            super(clock);
            this.name = name;
        }

        @Override
        protected void expired() {
            fired.add(name);
        }
    }

    private <T> T onLoop(java.util.concurrent.Callable<T> c) throws Exception {
        return loop.submit(c).get(5, TimeUnit.SECONDS);
    }

    /**
     * A timer armed earlier than the clock's pending task moves the task: with the other 30 s away, the early one
     * firing at all within the wait shows it (without the move both would fire together, 30 s on).
     */
    @Test
    void timersOfOneClockFireAtTheirOwnDeadlines() throws Exception {
        ConnectionClock clock = new ConnectionClock(loop);
        Named late = new Named(clock, "late");
        Named early = new Named(clock, "early");
        onLoop(() -> {
            late.arm(TimeUnit.SECONDS.toNanos(30)); // schedules the task
            early.arm(TimeUnit.MILLISECONDS.toNanos(50)); // earlier: moves it
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.contains("early"));
        assertThat(fired).containsExactly("early");
        assertThat(onLoop(late::armed)).as("the late timer waits for its own deadline").isTrue();
        onLoop(() -> {
            late.arm(TimeUnit.MILLISECONDS.toNanos(50)); // armed again, earlier than its pending deadline
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 2);
        assertThat(fired).containsExactly("early", "late");
        assertThat(onLoop(() -> late.armed() || early.armed())).isFalse();
    }

    @Test
    void aTimerArmedLaterThanThePendingTaskStillFires() throws Exception {
        ConnectionClock clock = new ConnectionClock(loop);
        Named first = new Named(clock, "first");
        Named second = new Named(clock, "second");
        onLoop(() -> {
            first.arm(TimeUnit.MILLISECONDS.toNanos(30));
            second.arm(TimeUnit.MILLISECONDS.toNanos(150)); // no task of its own: the first one's re-arms
            first.disarm();
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 1);
        assertThat(fired).containsExactly("second");
    }

    @Test
    void closingOneTimerLeavesTheOthersClosingTheClockStopsAll() throws Exception {
        ConnectionClock clock = new ConnectionClock(loop);
        Named closed = new Named(clock, "closed");
        Named kept = new Named(clock, "kept");
        onLoop(() -> {
            closed.arm(TimeUnit.MILLISECONDS.toNanos(20));
            kept.arm(TimeUnit.MILLISECONDS.toNanos(60));
            closed.close();
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 1);
        assertThat(fired).containsExactly("kept");

        ConnectionClock other = new ConnectionClock(loop);
        Named stopped = new Named(other, "stopped");
        Named witness = new Named(new ConnectionClock(loop), "witness");
        onLoop(() -> {
            stopped.arm(TimeUnit.MILLISECONDS.toNanos(20));
            other.close();
            witness.arm(TimeUnit.MILLISECONDS.toNanos(100));
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 2);
        assertThat(fired).containsExactly("kept", "witness");
    }
}
