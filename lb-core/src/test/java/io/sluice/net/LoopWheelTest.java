package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Connection clocks on their loop's timing wheel: every timer fires once, never before its deadline, in deadline
 * order across slots; a closed clock leaves the wheel; a deadline more than a turn of the wheel away waits for its
 * own turn; and the wheel empties.
 */
class LoopWheelTest {
    private final EventLoop loop = new DefaultEventLoop();
    /** What fired, and how late (ns) after its deadline. */
    private final List<String> fired = new CopyOnWriteArrayList<>();
    private final List<Long> lateNanos = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Recorded extends ConnectionClock.Timer {
        private final String name;
        private long deadline;

        Recorded(ConnectionClock clock, String name) {
            super(clock);
            this.name = name;
        }

        void armIn(long millis) {
            deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            arm(TimeUnit.MILLISECONDS.toNanos(millis));
        }

        @Override
        protected void expired() {
            lateNanos.add(System.nanoTime() - deadline);
            fired.add(name);
        }
    }

    private <T> T onLoop(Callable<T> c) throws Exception {
        return loop.submit(c).get(5, TimeUnit.SECONDS);
    }

    private int wheelSize() throws Exception {
        return onLoop(() -> LoopWheel.of(loop).size());
    }

    @Test
    void clocksFireInDeadlineOrderNeverEarlyAndClosedOnesNot() throws Exception {
        onLoop(() -> {
            for (int i = 9; i >= 0; i--) {
                new Recorded(new ConnectionClock(loop), "t" + i).armIn(20 + 30L * i);
            }
            ConnectionClock closed = new ConnectionClock(loop);
            new Recorded(closed, "closed").armIn(50);
            closed.close();
            return null;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 10);
        assertThat(fired).containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9");
        assertThat(lateNanos).allSatisfy(late -> assertThat(late).isGreaterThanOrEqualTo(0));
        assertThat(wheelSize()).isZero();
    }

    /** Past one turn of the wheel (512 ticks of 10 ms) a clock's slot comes round first: it must wait for its own. */
    @Test
    void aDeadlineBeyondOneTurnWaitsForItsOwnTurn() throws Exception {
        onLoop(() -> {
            new Recorded(new ConnectionClock(loop), "far").armIn(6_000);
            new Recorded(new ConnectionClock(loop), "near").armIn(6_000 - 5_120 + 30);
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.contains("near"));
        assertThat(fired).containsExactly("near");
        assertThat(wheelSize()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(15)).until(() -> fired.size() == 2);
        assertThat(fired).containsExactly("near", "far");
        assertThat(lateNanos).allSatisfy(late -> assertThat(late).isGreaterThanOrEqualTo(0));
        assertThat(wheelSize()).isZero();
    }

    /** A clock re-armed earlier moves to the earlier slot; armed later, it stays and waits again when its tick comes. */
    @Test
    void reArmingEarlierMovesTheClockAndLaterKeepsItsPlace() throws Exception {
        ConnectionClock clock = onLoop(() -> new ConnectionClock(loop));
        Recorded a = onLoop(() -> new Recorded(clock, "a"));
        onLoop(() -> {
            a.armIn(3_000);
            a.armIn(40); // earlier: moves
            return null;
        });
        await().atMost(Duration.ofSeconds(2)).until(() -> fired.size() == 1);
        onLoop(() -> {
            a.armIn(40);
            a.armIn(200); // later: the clock wakes at 40 ms and waits on for 200
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 2);
        assertThat(lateNanos).allSatisfy(late -> assertThat(late).isGreaterThanOrEqualTo(0));
        assertThat(wheelSize()).isZero();
    }
}
