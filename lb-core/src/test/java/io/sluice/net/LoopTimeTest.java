package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.sluice.config.TransportKind;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The loop's pass time is read once per pass and never taken from before the loop's wait: bytes that arrive
 * after the sender read the clock, and a task submitted after that, see a time no earlier than the sender's,
 * on every transport. Within one pass every read gives the same time.
 */
class LoopTimeTest {

    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void aPassAfterTheWaitReadsTheClockAfresh(TransportKind kind) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available here");
        BlockingQueue<long[]> seen = new LinkedBlockingQueue<>();
        try (OneLoopServer server = new OneLoopServer(kind, "looptime-test", new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        long first = LoopTime.nanoTime();
                        long again = LoopTime.nanoTime();
                        ((ByteBuf) msg).release();
                        seen.add(new long[] {first, again});
                    }
                });
            }
        }, b -> b); Socket client = new Socket("127.0.0.1", server.port())) {
            OutputStream out = client.getOutputStream();
            EventLoop loop = server.group.next();
            for (int round = 0; round < 5; round++) {
                // Let the loop go back to its wait (a task that runs means the pass before it has ended).
                loop.submit(() -> { }).get(5, TimeUnit.SECONDS);
                long before = System.nanoTime();
                out.write(round);
                out.flush();
                long[] read = seen.poll(10, TimeUnit.SECONDS);
                assertThat(read).as("a read arrived").isNotNull();
                assertThat(read[0] - before).as("a read's pass time is not older than the bytes").isGreaterThanOrEqualTo(0);
                assertThat(read[1]).as("one pass, one time").isEqualTo(read[0]);

                long beforeTask = System.nanoTime();
                long[] task = loop.submit(() -> new long[] {LoopTime.nanoTime(), LoopTime.nanoTime()})
                        .get(5, TimeUnit.SECONDS);
                assertThat(task[0] - beforeTask).as("a task's pass time is not older than its submission")
                        .isGreaterThanOrEqualTo(0);
                assertThat(task[1]).as("tasks read the clock each time").isGreaterThanOrEqualTo(task[0]);
            }
        }
    }

    /**
     * One task run that lasts (here a task busy for 300 ms; in life a drain's task per connection, or many
     * timers expiring together): a timer armed at its end still runs its whole time, not what is left of it
     * counted from the run's first task.
     */
    @ParameterizedTest
    @EnumSource(TransportKind.class)
    void aTimerArmedLateInALongTaskRunRunsItsWholeTime(TransportKind kind) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Transport.isAvailable(kind), kind + " is not available here");
        EventLoopGroup group = Transport.select(kind).newGroup(1, "looptime-tasks");
        try {
            EventLoop loop = group.next();
            CompletableFuture<long[]> fired = new CompletableFuture<>();
            long[] at = new long[2];
            loop.execute(() -> {
                loop.execute(() -> LoopTime.nanoTime()); // the run's first time, as a write's idle stamp takes it
                loop.execute(() -> {
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait(); // other tasks of the same run
                    }
                });
                loop.execute(() -> {
                    at[0] = System.nanoTime();
                    new ConnectionClock.Timer(new ConnectionClock(loop)) {
                        @Override
                        protected void expired() {
                            at[1] = System.nanoTime();
                            fired.complete(at);
                        }
                    }.arm(TimeUnit.MILLISECONDS.toNanos(200));
                });
            });
            long[] t = fired.get(10, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(t[1] - t[0])).as("ms from arm to expiry").isGreaterThanOrEqualTo(199);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @org.junit.jupiter.api.Test
    void offTheLoopsEveryReadIsTheClock() {
        long a = LoopTime.nanoTime();
        await().atMost(Duration.ofSeconds(5)).until(() -> LoopTime.nanoTime() != a);
        assertThat(LoopTime.nanoTime() - a).isPositive();
    }
}
