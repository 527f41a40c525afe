package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The raw relay's spare read buffers: a buffer given back is the next one its loop takes, only the smallest size is
 * kept and only so many, the spares go when the loop's thread ends, and connections relayed side by side on one
 * loop, whose reads take and give back the same few buffers all the time, each get exactly their own bytes.
 */
class SpareReadBuffersTest {
    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

    @Test
    void aBufferGivenBackIsTheNextOneItsLoopTakes() throws Exception {
        onLoopThread(() -> {
            ByteBuf first = SpareReadBuffers.take(ALLOC, UringConnection.MIN_BUFFER);
            assertThat(first.capacity()).isEqualTo(UringConnection.MIN_BUFFER);
            SpareReadBuffers.give(first);
            assertThat(SpareReadBuffers.spares()).isEqualTo(1);
            ByteBuf again = SpareReadBuffers.take(ALLOC, UringConnection.MIN_BUFFER);
            assertThat(again).isSameAs(first);
            assertThat(again.refCnt()).isEqualTo(1);
            assertThat(SpareReadBuffers.spares()).isZero();
            again.release();
            return null;
        });
    }

    @Test
    void largerBuffersAndThoseBeyondTheLimitGoBackToTheAllocator() throws Exception {
        onLoopThread(() -> {
            ByteBuf large = SpareReadBuffers.take(ALLOC, 2 * UringConnection.MIN_BUFFER);
            SpareReadBuffers.give(large);
            assertThat(large.refCnt()).isZero();
            assertThat(SpareReadBuffers.spares()).isZero();

            List<ByteBuf> many = new ArrayList<>();
            for (int i = 0; i <= SpareReadBuffers.MAX_SPARES; i++) {
                many.add(ALLOC.directBuffer(UringConnection.MIN_BUFFER, UringConnection.MIN_BUFFER));
            }
            many.forEach(SpareReadBuffers::give);
            assertThat(SpareReadBuffers.spares()).isEqualTo(SpareReadBuffers.MAX_SPARES);
            assertThat(many.get(SpareReadBuffers.MAX_SPARES).refCnt()).isZero();
            for (int i = 0; i < SpareReadBuffers.MAX_SPARES; i++) {
                SpareReadBuffers.take(ALLOC, UringConnection.MIN_BUFFER).release();
            }
            return null;
        });
    }

    @Test
    void theSparesAreReleasedWhenTheLoopThreadEnds() throws Exception {
        ByteBuf kept = onLoopThread(() -> {
            ByteBuf b = SpareReadBuffers.take(ALLOC, UringConnection.MIN_BUFFER);
            SpareReadBuffers.give(b);
            return b;
        });
        assertThat(kept.refCnt()).isZero();
    }

    @Test
    @Timeout(120)
    void connectionsRelayedSideBySideOnOneLoopEachGetTheirOwnBytes() throws Exception {
        Transports.assumeAvailable("io_uring");
        try (TestBackend echo = TestBackend.start("echo", TestBackend.echo());
             Sluice sluice = Proxies.startTcp("transport: io_uring, worker_threads: 1", echo.address())) {
            assertThat(((TcpListener) sluice.listener("front")).rawRelay()).isTrue();
            int port = Proxies.port(sluice, "front");
            ExecutorService clients = Executors.newFixedThreadPool(8);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int c = 0; c < 8; c++) {
                    int seed = c;
                    done.add(clients.submit(() -> echoRounds(port, seed)));
                }
                for (Future<Integer> f : done) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(40);
                }
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /** Round trips of messages of this client's own bytes, most under a read buffer, some over; returns how many came back whole. */
    private static int echoRounds(int port, int seed) throws Exception {
        Random random = new Random(seed);
        int whole = 0;
        try (Socket s = Proxies.connect(port)) {
            s.setSoTimeout(5_000); // bytes mixed up between connections leave a read waiting: fail, not hang
            OutputStream out = s.getOutputStream();
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int round = 0; round < 40; round++) {
                int size = round % 8 == 7 ? 20_000 + random.nextInt(60_000) : 1 + random.nextInt(2_000);
                byte[] sent = new byte[size];
                random.nextBytes(sent);
                sent[0] = (byte) seed;
                out.write(sent);
                out.flush();
                byte[] back = new byte[size];
                in.readFully(back);
                if (java.util.Arrays.equals(sent, back)) {
                    whole++;
                }
            }
        }
        return whole;
    }

    /** Runs {@code work} on a thread with Netty's thread-locals, as an event loop's, and waits for the thread to end. */
    private static <T> T onLoopThread(Callable<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new FastThreadLocalThread(() -> {
            try {
                result.set(work.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join(10_000);
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return result.get();
    }
}
