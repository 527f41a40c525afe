package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.sluice.balance.PickContext;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ConfigLoader;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cluster's queue on its own: slots, the order waiters are served in, which loop hears of it, sticky pins,
 * and reloads. Real event loops, no sockets.
 */
class ClusterQueueTest {
    private final EventLoop loopA = new DefaultEventLoop();
    private final EventLoop loopB = new DefaultEventLoop();

    /** A cluster of two servers limited to one each, both full; the slots and a log of what waiters heard. */
    private Cluster c;
    private Slot a;
    private Slot b;
    private final List<String> log = new CopyOnWriteArrayList<>();

    private void fill(String queue) throws Exception {
        c = new Cluster(config(1, 1, queue));
        a = c.queue().take(c.server("10.0.0.1:80"));
        b = c.queue().take(c.server("10.0.0.2:80"));
    }

    @AfterEach
    void stop() {
        loopA.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        loopB.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static ClusterConfig config(int maxA, int maxB, String queue) throws Exception {
        return ConfigLoader.parse("""
                listeners: [ { name: a, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    queue: %s
                    servers:
                      - { address: "10.0.0.1:80", max_connections: %d }
                      - { address: "10.0.0.2:80", max_connections: %d }
                """.formatted(queue, maxA, maxB)).cluster("app");
    }

    /** A waiter that records, in order, which server it was granted and on which thread. */
    private static final class Recorder extends ClusterQueue.Waiter {
        final String name;
        final EventLoop loop;
        final List<String> log;
        final CompletableFuture<Slot> slot = new CompletableFuture<>();

        Recorder(String name, EventLoop loop, Server pinned, List<String> log) {
            super(loop, pinned);
            this.name = name;
            this.loop = loop;
            this.log = log;
        }

        @Override
        protected void granted(Slot s) {
            log.add(name + "->" + s.server().label() + (loop.inEventLoop() ? "" : " OFF ITS LOOP"));
            slot.complete(s);
        }

        @Override
        protected void timedOut() {
            log.add(name + " timed out" + (loop.inEventLoop() ? "" : " OFF ITS LOOP"));
        }
    }

    private static void enqueue(Cluster c, Recorder w) throws Exception {
        assertThat(w.loop.submit(() -> c.queue().enqueue(w)).get()).isTrue();
    }

    @Test
    void picksSkipFullServersAndTheLimitIsExact() throws Exception {
        Cluster c = new Cluster(config(1, 2, "{ max: 10, timeout: 60s }"));
        Server a = c.server("10.0.0.1:80");
        Server b = c.server("10.0.0.2:80");
        Slot first = c.queue().take(a);
        assertThat(first).isNotNull();
        assertThat(c.queue().take(a)).isNull();
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < 20; i++) {
            assertThat(c.pick(ctx)).isSameAs(b);
        }
        Slot b1 = c.queue().take(b);
        Slot b2 = c.queue().take(b);
        assertThat(c.pick(ctx)).isNull();
        assertThat(ctx.sawFull()).isTrue();
        first.close();
        first.close(); // once only
        assertThat(a.slotsInUse()).isZero();
        assertThat(c.pick(ctx)).isSameAs(a);
        b1.close();
        b2.close();
    }

    @Test
    void aFreedSlotGoesToTheOldestWaiterOnItsOwnLoop() throws Exception {
        fill("{ max: 10, timeout: 60s }");
        Recorder first = new Recorder("first", loopB, null, log);
        Recorder second = new Recorder("second", loopA, null, log);
        Recorder third = new Recorder("third", loopB, null, log);
        enqueue(c, first);
        enqueue(c, second);
        enqueue(c, third);
        assertThat(c.queue().length()).isEqualTo(3);
        // Freed from loop A (a slot is given back where its work ran); the waiter hears of it on loop B.
        loopA.submit(a::close).get();
        first.slot.get();
        b.close(); // from the test thread: any thread may give a slot back
        second.slot.get();
        assertThat(log).containsExactly("first->10.0.0.1:80", "second->10.0.0.2:80");
        assertThat(c.queue().length()).isEqualTo(1);
        // A handed-over slot is still counted: the servers stay full for newcomers.
        assertThat(c.server("10.0.0.1:80").slotsInUse()).isEqualTo(1);
        first.slot.get().close();
        third.slot.get().close();
        second.slot.get().close();
        assertThat(c.server("10.0.0.1:80").slotsInUse() + c.server("10.0.0.2:80").slotsInUse()).isZero();
    }

    @Test
    void aPinnedWaiterWaitsForItsServerAndOthersPassIt() throws Exception {
        fill("{ max: 10, timeout: 60s }");
        Server sa = c.server("10.0.0.1:80");
        Recorder pinned = new Recorder("pinned", loopA, sa, log);
        Recorder any = new Recorder("any", loopB, null, log);
        enqueue(c, pinned);
        enqueue(c, any);
        assertThat(sa.queued()).isEqualTo(1);
        b.close(); // b's slot cannot serve the pinned waiter: the one behind it takes it
        any.slot.get();
        assertThat(log).containsExactly("any->10.0.0.2:80");
        a.close();
        pinned.slot.get();
        assertThat(log).containsExactly("any->10.0.0.2:80", "pinned->10.0.0.1:80");
        assertThat(sa.queued()).isZero();
        pinned.slot.get().close();
        any.slot.get().close();
    }

    @Test
    void aPinnedWaiterWhoseServerGoesDownMayGoAnywhere() throws Exception {
        fill("{ max: 10, timeout: 60s }");
        Server sa = c.server("10.0.0.1:80");
        Recorder pinned = new Recorder("pinned", loopA, sa, log);
        enqueue(c, pinned);
        c.setHealthy(sa, false, "test");
        b.close();
        assertThat(pinned.slot.get().server().label()).isEqualTo("10.0.0.2:80");
        assertThat(sa.queued()).isZero();
        a.close();
        pinned.slot.get().close();
    }

    @Test
    void aReloadThatRaisesTheLimitServesTheQueueAndOneThatLowersItDropsNothing() throws Exception {
        fill("{ max: 10, timeout: 60s }");
        Recorder w1 = new Recorder("w1", loopA, null, log);
        Recorder w2 = new Recorder("w2", loopB, null, log);
        enqueue(c, w1);
        enqueue(c, w2);
        c.reconfigure(config(2, 1, "{ max: 1, timeout: 60s }")); // a smaller queue keeps who already waits
        w1.slot.get();
        assertThat(log).containsExactly("w1->10.0.0.1:80");
        assertThat(c.queue().length()).isEqualTo(1);
        c.reconfigure(config(1, 1, "{ max: 1, timeout: 60s }")); // lower: slots in use stay, nothing dropped
        assertThat(c.server("10.0.0.1:80").slotsInUse()).isEqualTo(2);
        w1.slot.get().close();
        assertThat(c.queue().length()).isEqualTo(1); // a is still at its new limit of 1
        a.close();
        assertThat(w2.slot.get().server().label()).isEqualTo("10.0.0.1:80");
        b.close();
        w2.slot.get().close();
    }

    @Test
    void aWaiterTimesOutOnItsLoopAndIsCounted() throws Exception {
        fill("{ max: 10, timeout: 50ms }");
        enqueue(c, new Recorder("late", loopA, null, log));
        await().atMost(Duration.ofSeconds(10)).until(() -> c.queue().timeouts() == 1);
        assertThat(log).containsExactly("late timed out");
        assertThat(c.queue().length()).isZero();
        a.close();
        b.close();
        assertThat(c.server("10.0.0.1:80").slotsInUse()).isZero();
    }

    @Test
    void aFullQueueRefusesAndCounts() throws Exception {
        fill("{ max: 1, timeout: 60s }");
        Recorder w = new Recorder("w", loopA, null, log);
        enqueue(c, w);
        Recorder refused = new Recorder("refused", loopA, null, log);
        assertThat(loopA.submit(() -> c.queue().enqueue(refused)).get()).isFalse();
        assertThat(c.queue().rejected()).isEqualTo(1);
        loopA.submit(() -> c.queue().cancel(w)).get();
        assertThat(c.queue().length()).isZero();
        a.close();
        b.close();
        assertThat(log).isEmpty();
    }
}
