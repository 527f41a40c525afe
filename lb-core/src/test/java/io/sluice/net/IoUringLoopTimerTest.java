package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.config.TransportKind;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An io_uring loop whose waits are bounded by {@link IoUringLoopTimer}'s one kernel timer instead of Netty's
 * timeout per wait still runs every scheduled task: when a task earlier than the armed timer arrives later, when
 * the earliest is cancelled, when scheduled from another thread, and one after another.
 */
class IoUringLoopTimerTest {
    private EventLoopGroup group;
    private EventLoop loop;
    private final List<String> fired = new CopyOnWriteArrayList<>();

    @BeforeEach
    void loop() {
        assumeThat(Transport.isAvailable(TransportKind.IO_URING)).as("io_uring on this machine").isTrue();
        group = Transport.select(TransportKind.IO_URING).newGroup(1, "loop-timer-test");
        loop = group.next();
    }

    @AfterEach
    void close() throws InterruptedException {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private ScheduledFuture<?> at(long millis, String name) {
        return loop.schedule(() -> fired.add(name), millis, TimeUnit.MILLISECONDS);
    }

    private void onLoop(Runnable r) throws Exception {
        loop.submit(r).get(5, TimeUnit.SECONDS);
    }

    @Test
    void anEarlierTaskScheduledWhileALaterOneIsArmedRunsFirst() throws Exception {
        // The late timer is armed first and is 30 s away: the early task runs within the wait only if a new timer
        // was armed for it (without one the loop would sleep until the late timer).
        ScheduledFuture<?>[] late = new ScheduledFuture<?>[1];
        onLoop(() -> late[0] = at(30_000, "late"));
        onLoop(() -> at(50, "early"));
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.contains("early"));
        assertThat(fired).containsExactly("early");
        late[0].cancel(false);
    }

    @Test
    void cancellingTheEarliestTaskStillRunsTheNext() throws Exception {
        onLoop(() -> at(400, "kept"));
        ScheduledFuture<?>[] early = new ScheduledFuture<?>[1];
        onLoop(() -> early[0] = at(100, "cancelled"));
        onLoop(() -> early[0].cancel(false));
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.contains("kept"));
        assertThat(fired).containsExactly("kept");
    }

    @Test
    void tasksScheduledFromAnotherThreadAndChainedOnTheLoopAllRun() {
        at(30, "outside");
        loop.schedule(() -> at(30, "chained"), 30, TimeUnit.MILLISECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 2);
        assertThat(fired).containsExactlyInAnyOrder("outside", "chained");
    }

    @Test
    void manyTimersEachEarlierThanTheLastAllRun() throws Exception {
        ScheduledFuture<?>[] far = new ScheduledFuture<?>[1];
        onLoop(() -> far[0] = at(30_000, "far")); // armed first: every later one is earlier
        for (int i = 20; i >= 1; i--) {
            int n = i;
            onLoop(() -> at(n * 15L, "t" + n));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> fired.size() == 20);
        assertThat(fired).doesNotHaveDuplicates().doesNotContain("far");
        far[0].cancel(false);
    }

    @Test
    void thePropertyTurnsItOff() {
        IoHandlerFactory netty = IoUringIoHandler.newFactory();
        String before = System.getProperty(IoUringLoopTimer.PROPERTY);
        System.setProperty(IoUringLoopTimer.PROPERTY, "false");
        try {
            assertThat(IoUringLoopTimer.wrap(netty)).isSameAs(netty);
        } finally {
            if (before == null) {
                System.clearProperty(IoUringLoopTimer.PROPERTY);
            } else {
                System.setProperty(IoUringLoopTimer.PROPERTY, before);
            }
        }
        assertThat(IoUringLoopTimer.wrap(netty)).isNotSameAs(netty);
    }
}
