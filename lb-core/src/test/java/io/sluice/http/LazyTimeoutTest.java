package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-connection timer that HTTP keep-alive connections re-arm on every request: it must fire once, after
 * the latest deadline, whether that deadline moved later (no new task) or earlier (a new task).
 */
class LazyTimeoutTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final AtomicInteger fired = new AtomicInteger();
    private final LazyTimeout timeout = new LazyTimeout(loop, fired::incrementAndGet);

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void onLoop(Runnable r) throws Exception {
        loop.submit(r).get(5, TimeUnit.SECONDS);
    }

    private boolean armed() throws Exception {
        return loop.submit(timeout::armed).get(5, TimeUnit.SECONDS);
    }

    @Test
    void rearmingLaterPostponesExpiry() throws Exception {
        onLoop(() -> timeout.arm(TimeUnit.MILLISECONDS.toNanos(50)));
        long start = System.nanoTime();
        onLoop(() -> timeout.arm(TimeUnit.MILLISECONDS.toNanos(400)));
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.get() == 1);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(400));
        assertThat(armed()).isFalse();
    }

    @Test
    void rearmingEarlierExpiresAtTheEarlierDeadline() throws Exception {
        onLoop(() -> timeout.arm(TimeUnit.SECONDS.toNanos(60)));
        onLoop(() -> timeout.arm(TimeUnit.MILLISECONDS.toNanos(20)));
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.get() == 1);
        // the 60 s task is still queued; re-arming short again must not rely on it
        onLoop(() -> timeout.arm(TimeUnit.MILLISECONDS.toNanos(20)));
        await().atMost(Duration.ofSeconds(5)).until(() -> fired.get() == 2);
    }

    @Test
    void disarmedOrClosedNeverFires() throws Exception {
        onLoop(() -> {
            timeout.arm(TimeUnit.MILLISECONDS.toNanos(10));
            timeout.disarm();
        });
        LazyTimeout closed = new LazyTimeout(loop, fired::incrementAndGet);
        onLoop(() -> {
            closed.arm(TimeUnit.MILLISECONDS.toNanos(10));
            closed.close();
        });
        // a third timer armed after them fires; by then both earlier deadlines have long passed
        AtomicInteger witness = new AtomicInteger();
        LazyTimeout later = new LazyTimeout(loop, witness::incrementAndGet);
        onLoop(() -> later.arm(TimeUnit.MILLISECONDS.toNanos(100)));
        await().atMost(Duration.ofSeconds(5)).until(() -> witness.get() == 1);
        assertThat(fired).hasValue(0);
    }

    @Test
    void zeroDisarms() throws Exception {
        onLoop(() -> {
            timeout.arm(TimeUnit.MILLISECONDS.toNanos(10));
            timeout.arm(0);
        });
        assertThat(armed()).isFalse();
    }
}
