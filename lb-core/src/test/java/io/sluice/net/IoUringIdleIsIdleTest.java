package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.uring.IoUring;
import io.sluice.config.TransportKind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * io_uring event loops waiting for input on open connections count as idle CPU, not as iowait: without
 * IORING_ENTER_NO_IOWAIT every such wait is accounted as waiting for I/O, and an idle Sluice's cores read as 100%
 * iowait. Needs Linux 6.15 or later (the flag's first kernel); skipped before that, where Netty cannot use it.
 */
class IoUringIdleIsIdleTest {
    private EventLoopGroup group;
    private final List<Socket> clients = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (Socket s : clients) {
            s.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void loopsWaitingOnOpenConnectionsDoNotShowAsIowait() throws Exception {
        assumeThat(Transport.isAvailable(TransportKind.IO_URING)).as("io_uring on this machine").isTrue();
        assumeThat(kernelAtLeast(6, 15)).as("Linux 6.15 or later (IORING_ENTER_NO_IOWAIT), here "
                + System.getProperty("os.version")).isTrue();
        Transport transport = Transport.select(TransportKind.IO_URING);
        assertThat(IoUring.isIoringEnterNoIoWaitEnabled()).as("Netty's io_uring waits without iowait").isTrue();

        // Two loops, each with accepted connections whose reads wait in the ring, as in an idle proxy.
        group = transport.newGroup(2, "iowait-test");
        AtomicInteger accepted = new AtomicInteger();
        Channel server = new ServerBootstrap().group(group).channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.incrementAndGet();
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        for (int i = 0; i < 8; i++) {
            clients.add(new Socket("127.0.0.1", port));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> accepted.get() == 8);

        // The whole machine's iowait while the loops sleep: with the accounting on, each sleeping loop turned its
        // core's idle time into iowait (about a core's worth per loop on an otherwise quiet machine).
        long[] before = cpuTimes();
        Thread.sleep(2000); // the measured interval itself, not a wait for a condition
        long[] after = cpuTimes();
        long total = after[0] - before[0];
        long iowait = after[1] - before[1];
        assertThat(total).isPositive();
        assertThat((double) iowait / total).as("iowait share of all CPU time, %d of %d jiffies", iowait, total)
                .isLessThan(0.15);
        server.close().sync();
    }

    /** All CPU time and its iowait part, in jiffies, from /proc/stat's first line. */
    private static long[] cpuTimes() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < f.length; i++) {
            total += Long.parseLong(f[i]);
        }
        return new long[] {total, Long.parseLong(f[5])};
    }

    private static boolean kernelAtLeast(int major, int minor) {
        String[] v = System.getProperty("os.version").split("[.-]");
        try {
            int ma = Integer.parseInt(v[0]);
            int mi = v.length > 1 ? Integer.parseInt(v[1]) : 0;
            return ma > major || ma == major && mi >= minor;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
