package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One loop's timers in lanes (one per duration) and a heap (the rest): whichever holds a timer, it expires once, not
 * before its deadline, and in deadline order with the others; closing gives its place up at once.
 */
class TimerLanesTest {
    private static final long MS = 1_000_000L;

    private final EventLoop loop = new DefaultEventLoop();
    /** Per expiry: the timer's id, its deadline, and the clock when it ran. */
    private final List<long[]> fired = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Recorded extends ConnectionClock.Timer {
        final int id;
        long due;

        Recorded(ConnectionClock clock, int id) {
            super(clock);
            this.id = id;
        }

        void armFor(long nanos, boolean left) {
            due = System.nanoTime() + nanos;
            if (left) {
                armLeft(nanos);
            } else {
                arm(nanos);
            }
        }

        @Override
        protected void expired() {
            fired.add(new long[] {id, due, System.nanoTime()});
        }
    }

    private <T> T onLoop(Callable<T> c) throws Exception {
        return loop.submit(c).get(5, TimeUnit.SECONDS);
    }

    private int[] counts() throws Exception {
        return onLoop(() -> TimerLanes.ofThisThread().counts());
    }

    /**
     * Timers of four fixed durations and some armed for "the time left", on 40 connections: each fires once, none
     * early, in the order of their deadlines whether a lane or the heap held it.
     */
    @Test
    void timersInLanesAndHeapFireOnceEachNotEarlyInDeadlineOrder() throws Exception {
        Random random = new Random(42);
        long[] durations = {30 * MS, 60 * MS, 90 * MS, 120 * MS};
        List<Recorded> timers = new ArrayList<>();
        onLoop(() -> {
            for (int i = 0; i < 40; i++) {
                Recorded t = new Recorded(new ConnectionClock(loop), i);
                boolean left = i % 5 == 0;
                t.armFor(left ? (10 + random.nextInt(150)) * MS : durations[random.nextInt(durations.length)], left);
                timers.add(t);
            }
            return null;
        });
        int[] placed = counts();
        assertThat(placed[0]).as("in lanes").isEqualTo(32);
        assertThat(placed[1]).as("in the heap").isEqualTo(8);
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 40);
        for (long[] f : fired) {
            assertThat(f[2]).as("timer %d ran at or after its deadline", f[0]).isGreaterThanOrEqualTo(f[1]);
        }
        for (int i = 1; i < fired.size(); i++) {
            Recorded before = timers.get((int) fired.get(i - 1)[0]);
            Recorded after = timers.get((int) fired.get(i)[0]);
            // Deadlines taken on the test's clock a few µs apart from the loop's: order within 1 ms.
            assertThat(after.due).as("deadline order").isGreaterThanOrEqualTo(before.due - MS);
        }
        assertThat(fired.stream().mapToLong(f -> f[0]).distinct().count()).isEqualTo(40);
        assertThat(counts()).containsExactly(0, 0);
    }

    /** Armed again for later before it fires: it fires once, at the later deadline. */
    @Test
    void armingAgainForLaterMovesTheExpiry() throws Exception {
        Recorded t = onLoop(() -> {
            Recorded r = new Recorded(new ConnectionClock(loop), 0);
            r.armFor(50 * MS, false);
            return r;
        });
        Thread.sleep(20); // the second arm must come while the first is pending; only the order is asserted
        onLoop(() -> {
            t.armFor(150 * MS, false);
            return null;
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == 1);
        assertThat(fired.get(0)[2]).as("not at the first deadline").isGreaterThanOrEqualTo(t.due);
        Thread.sleep(200); // nothing else may follow
        assertThat(fired).hasSize(1);
    }

    /**
     * More durations than lanes: the rest go to the heap and still fire; a lane emptied serves a new duration, and a
     * disarmed timer does not fire.
     */
    @Test
    void moreDurationsThanLanesStillFireAndDisarmedOnesDoNot() throws Exception {
        int n = TimerLanes.LANES + 8;
        List<Recorded> timers = onLoop(() -> {
            List<Recorded> list = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Recorded t = new Recorded(new ConnectionClock(loop), i);
                t.armFor((20 + i) * MS, false);
                list.add(t);
            }
            list.get(3).disarm();
            return list;
        });
        assertThat(counts()).containsExactly(TimerLanes.LANES, 8);
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == n - 1);
        assertThat(fired.stream().mapToLong(f -> f[0])).doesNotContain(3L);
        onLoop(() -> {
            timers.get(0).armFor(500 * MS, false); // a new duration: takes an emptied lane
            return null;
        });
        assertThat(counts()).containsExactly(1, 0);
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.size() == n);
    }

    /** Closing the timers of 1000 connections gives up every place at once; the others still fire. */
    @Test
    void closedConnectionsLeaveNothingPlaced() throws Exception {
        List<ConnectionClock> clocks = onLoop(() -> {
            List<ConnectionClock> list = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                ConnectionClock clock = new ConnectionClock(loop);
                new Recorded(clock, i).armFor(30_000 * MS, false);
                new Recorded(clock, i).armFor(10_000 * MS, false);
                new Recorded(clock, i).armFor((1000 + i) * MS, true); // the heap; after the counts below
                list.add(clock);
            }
            return list;
        });
        assertThat(counts()).containsExactly(2000, 1000);
        onLoop(() -> {
            for (int i = 0; i < clocks.size(); i += 2) {
                clocks.get(i).close();
            }
            return null;
        });
        assertThat(counts()).containsExactly(1000, 500);
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 500);
        assertThat(fired.stream().mapToLong(f -> f[0])).allMatch(id -> id % 2 == 1);
        onLoop(() -> {
            clocks.forEach(ConnectionClock::close);
            return null;
        });
        assertThat(counts()).containsExactly(0, 0);
    }

    @Test
    void armingOffTheLoopIsRefused() {
        ConnectionClock clock = new ConnectionClock(loop);
        Recorded t = new Recorded(clock, 0);
        assertThatThrownBy(() -> t.arm(MS)).isInstanceOf(IllegalStateException.class);
    }
}
