package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A paced loop runs one heavy step per pass, those that wait in the order they came, each after the IO of its own
 * pass; and it does not wait for IO while steps wait (these loops have no channel at all, so a loop that blocked
 * would never run them). A task queued by a step runs before the next step: the next step came with the next pass.
 */
class HeavyStepsTest {
    private EventLoopGroup group;

    @AfterEach
    void close() throws Exception {
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private EventLoop loop(TransportKind kind) {
        assumeThat(Transport.isAvailable(kind)).as(kind + " on this machine").isTrue();
        group = Transport.select(kind).newGroup(1, "heavy-steps-test");
        return group.next();
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "EPOLL", "IO_URING"})
    void oneStepPerPassInTheOrderTheyCame(TransportKind kind) throws Exception {
        EventLoop loop = loop(kind);
        List<String> seen = new CopyOnWriteArrayList<>();
        List<Boolean> admitted = loop.submit(() -> {
            boolean first = HeavySteps.mayStartNow();
            boolean second = HeavySteps.mayStartNow();
            for (String name : List.of("a", "b", "c")) {
                HeavySteps.later(() -> {
                    seen.add(name + (HeavySteps.mayStartNow() ? "+another" : ""));
                    loop.execute(() -> seen.add("task after " + name));
                });
            }
            return List.of(first, second);
        }).get(10, TimeUnit.SECONDS);
        assertThat(admitted).containsExactly(true, false);
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 6);
        assertThat(seen).containsExactly("a", "task after a", "b", "task after b", "c", "task after c");
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "IO_URING"})
    void aStepThatThrowsCostsOnlyItself(TransportKind kind) throws Exception {
        EventLoop loop = loop(kind);
        List<String> seen = new CopyOnWriteArrayList<>();
        loop.submit(() -> {
            HeavySteps.mayStartNow();
            HeavySteps.later(() -> {
                throw new IllegalStateException("a broken step (expected in this test)");
            });
            HeavySteps.later(() -> seen.add("after the broken one"));
        }).get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> seen.contains("after the broken one"));
        assertThat(inALaterPass(loop)).as("nothing waits any more: the next pass has its budget").isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = TransportKind.class, names = {"NIO", "IO_URING"})
    void withNothingWaitingEachPassHasItsBudgetAgain(TransportKind kind) throws Exception {
        EventLoop loop = loop(kind);
        for (int pass = 0; pass < 3; pass++) {
            assertThat(inALaterPass(loop)).isTrue();
        }
    }

    /**
     * Spends this pass's budget, then asks again from a scheduled task: Netty takes due scheduled tasks only as a
     * pass's tasks begin, so one due after the current pass's start runs in a later pass.
     */
    private static boolean inALaterPass(EventLoop loop) throws Exception {
        return loop.submit(() -> {
            HeavySteps.mayStartNow();
            return loop.schedule(HeavySteps::mayStartNow, 1, TimeUnit.MILLISECONDS);
        }).get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
}
