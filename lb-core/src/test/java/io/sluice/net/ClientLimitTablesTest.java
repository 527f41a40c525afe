package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sluice.config.ClientLimitsConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The per-client tables on a clock the test moves: token buckets refill at the rate and hold at most the burst,
 * a flood of new clients leaves memory and the limited clients in place, and connection counts come back to
 * zero exactly.
 */
class ClientLimitTablesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);

    private void advanceMillis(long ms) {
        clock.addAndGet(ms * 1_000_000L);
    }

    @Test
    void bucketGrantsTheBurstThenTheRate() {
        RequestRateTable t = new RequestRateTable(16, clock::get);
        for (int i = 0; i < 3; i++) {
            assertThat(t.acquire(42, 1, 3)).as("request %d of the burst", i).isZero();
        }
        long wait = t.acquire(42, 1, 3);
        assertThat(wait).isPositive().isLessThanOrEqualTo(1_000_000_000L);
        advanceMillis(999);
        assertThat(t.acquire(42, 1, 3)).isPositive();
        advanceMillis(1);
        assertThat(t.acquire(42, 1, 3)).isZero();
        assertThat(t.acquire(42, 1, 3)).isPositive();
        // A long quiet refills the bucket to the burst, never beyond.
        advanceMillis(60_000);
        for (int i = 0; i < 3; i++) {
            assertThat(t.acquire(42, 1, 3)).isZero();
        }
        assertThat(t.acquire(42, 1, 3)).isPositive();
    }

    @Test
    void overOneSecondAClientGetsTheBurstPlusTheRate() {
        RequestRateTable t = new RequestRateTable(16, clock::get);
        int granted = 0;
        for (int ms = 0; ms < 1000; ms++) {
            for (int k = 0; k < 5; k++) {
                if (t.acquire(7, 100, 10) == 0) {
                    granted++;
                }
            }
            advanceMillis(1);
        }
        // 10 at once, then one every 10 ms.
        assertThat(granted).isBetween(10 + 99, 10 + 100);
    }

    @Test
    void clientsAreApart() {
        RequestRateTable t = new RequestRateTable(16, clock::get);
        assertThat(t.acquire(1, 1, 1)).isZero();
        assertThat(t.acquire(1, 1, 1)).isPositive();
        assertThat(t.acquire(2, 1, 1)).isZero();
    }

    @Test
    void aFloodOfNewSourcesNeitherGrowsTheTableNorFreesALimitedClient() {
        RequestRateTable t = new RequestRateTable(1024, clock::get);
        int capacity = t.capacity();
        long limited = 0x5eed_1234_5678_9abcL;
        for (int i = 0; i < 50; i++) {
            t.acquire(limited, 1, 50);
        }
        assertThat(t.acquire(limited, 1, 50)).isPositive();
        // A million spoofed sources, one request each, within 100 ms (less than the limited client's next token).
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < 1_000_000; i++) {
            assertThat(t.acquire(r.nextLong(), 10, 50)).isZero();
            if (i % 10_000 == 0) {
                advanceMillis(1);
                // The limited client keeps its place: its bucket is the least full in its set.
                assertThat(t.acquire(limited, 1, 50)).as("after %d new sources", i).isPositive();
            }
        }
        assertThat(t.capacity()).isEqualTo(capacity);
    }

    @Test
    void theClockMayWrapWithoutLimitingAnyone() {
        AtomicLong c = new AtomicLong(Long.MAX_VALUE - 500_000_000L);
        RequestRateTable t = new RequestRateTable(16, c::get);
        assertThat(t.acquire(9, 1, 1)).isZero();
        assertThat(t.acquire(9, 1, 1)).isPositive();
        c.addAndGet(1_000_000_000L); // nanoTime overflows here
        assertThat(t.acquire(9, 1, 1)).isZero();
        // An entry untouched for half the table's 44-bit wrap (101 days) reads as a full bucket.
        c.addAndGet((1L << 43) * 1000);
        assertThat(t.acquire(9, 1, 1)).isZero();
    }

    @Test
    void racingLoopsNeverGrantMoreThanTheBurst() throws Exception {
        RequestRateTable t = new RequestRateTable(16, clock::get);
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < 10_000; k++) {
                    if (t.acquire(99, 1, 100) == 0) {
                        granted.incrementAndGet();
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        go.countDown();
        for (Thread th : threads) {
            th.join();
        }
        // The clock stands still: exactly the burst, whatever the interleaving (the entry exists before).
        assertThat(granted.get()).isBetween(100, 100 + RequestRateTable.WAYS * 100);
    }

    @Test
    void connectionCountsLimitAndReturnToZero() {
        ConnectionCounts c = new ConnectionCounts();
        assertThat(c.acquire(5, 2)).isTrue();
        assertThat(c.acquire(5, 2)).isTrue();
        assertThat(c.acquire(5, 2)).isFalse();
        assertThat(c.acquire(6, 2)).isTrue();
        c.release(5);
        assertThat(c.acquire(5, 2)).isTrue();
        c.release(5);
        c.release(5);
        c.release(6);
        assertThat(c.count(5)).isZero();
        assertThat(c.count(6)).isZero();
    }

    @Test
    void limitsFollowTheChannelsLifeAndIpv6CountsBySlash64() throws Exception {
        ListenerStats stats = new ListenerStats();
        ClientLimits limits = new ClientLimits(stats, clock::get);
        limits.configure(new ClientLimitsConfig(1, 0, 0));
        EmbeddedChannel a = channelFrom("2001:db8:1:2::1");
        EmbeddedChannel b = channelFrom("2001:db8:1:2::99");
        EmbeddedChannel other = channelFrom("2001:db8:1:3::1");
        assertThat(limits.admit(a, false)).isTrue();
        assertThat(limits.admit(a, false)).as("asking again is a no-op").isTrue();
        assertThat(limits.admit(b, false)).as("same /64").isFalse();
        assertThat(b.isOpen()).isFalse();
        assertThat(limits.admit(other, false)).isTrue();
        assertThat(stats.limited(ClientLimits.Limit.CONNECTIONS_PER_IP)).isEqualTo(1);
        long hash = limits.hash(InetAddress.getByName("2001:db8:1:2::1"));
        assertThat(limits.connections().count(hash)).isEqualTo(1);
        a.close();
        other.close();
        assertThat(limits.connections().count(hash)).isZero();
        assertThat(limits.connections().count(limits.hash(InetAddress.getByName("2001:db8:1:3::1")))).isZero();
    }

    @Test
    void aTcpConnectionIsARequest() throws Exception {
        ListenerStats stats = new ListenerStats();
        ClientLimits limits = new ClientLimits(stats, clock::get);
        limits.configure(new ClientLimitsConfig(0, 1, 2));
        assertThat(limits.admit(channelFrom("192.0.2.1"), true)).isTrue();
        assertThat(limits.admit(channelFrom("192.0.2.1"), true)).isTrue();
        EmbeddedChannel third = channelFrom("192.0.2.1");
        assertThat(limits.admit(third, true)).isFalse();
        assertThat(third.isOpen()).isFalse();
        assertThat(stats.limited(ClientLimits.Limit.REQUESTS_PER_SECOND_PER_IP)).isEqualTo(1);
        // A reload that turns the rate off lets the next one in.
        limits.configure(ClientLimitsConfig.NONE);
        assertThat(limits.admit(channelFrom("192.0.2.1"), true)).isTrue();
    }

    private static EmbeddedChannel channelFrom(String ip) throws Exception {
        InetAddress address = InetAddress.getByName(ip);
        EmbeddedChannel ch = new EmbeddedChannel();
        ClientSource.set(ch, new ClientSource(new java.net.InetSocketAddress(address, 1234), List.of()));
        return ch;
    }
}
