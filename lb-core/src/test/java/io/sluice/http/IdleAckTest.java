package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannel;
import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server connection that goes idle in its pool holds back no ACK: the kernel's delayed-ACK ("pingpong") mode,
 * which a keep-alive connection enters when it sends a request soon after a response, is left as the connection
 * goes idle, and with it the ACK of the response's last segment goes out (io.sluice.net.IdleAck says why that
 * matters). Read back with getsockopt(TCP_QUICKACK), which Linux answers with "not in pingpong mode". Not timed:
 * should the kernel's delayed-ACK timer fire during the exchange, it leaves that mode too (the test then passes
 * without the fix, never fails with it).
 */
class IdleAckTest {
    /** IPPROTO_TCP, TCP_QUICKACK. */
    private static final IntegerUnixChannelOption NATIVE_QUICKACK = new IntegerUnixChannelOption("TCP_QUICKACK", 6, 12);
    private static final ChannelOption<Boolean> NIO_QUICKACK = NioChannelOption.of(ExtendedSocketOptions.TCP_QUICKACK);
    /**
     * One short segment: the ACK the kernel holds back in that mode, as for the last segment of a large response
     * (whose next response on the connection the late ACK slowed).
     */
    /** Large enough for the ACK to be sent ({@link io.sluice.net.IdleAck#AFTER_RESPONSE_BYTES}). */
    private static final int SIZE = 64 * 1024;
    private static final byte[] RESPONSE = response();

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "nio", "io_uring"})
    void anIdlePooledConnectionHoldsNoAckBack(String transport) throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "TCP_QUICKACK is Linux's");
        Transports.assumeAvailable(transport);
        try (HttpBackend b = new HttpBackend("a", (req, out, sock) -> {
            // As NGINX sends: no Nagle, and the whole response in one write. With Nagle the server would hold its
            // body until its head is acknowledged, which here makes the kernel's delayed-ACK timer fire during
            // every response (and leave the mode this test looks at).
            sock.setTcpNoDelay(true);
            out.write(RESPONSE);
            out.flush();
        });
             Sluice s = Proxies.startHttp(transport, b.address());
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            assertThat(c.get("/").body()).hasSize(SIZE);
            HttpListener l = (HttpListener) s.listener("web");
            ServerPools pools = l.routes().all().get(0).upstream().pools(s.cluster("app").servers().get(0));
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.idle() == 1);
            BackendPool pool = (BackendPool) pools.loopPool(0);
            // The state a keep-alive connection gets into when it sends a request soon after a response (Linux
            // enters it on the second request); set here so that it does not depend on how fast this test is.
            assertThat(onLoop(pool, ch -> setAcksAtOnce(ch, false))).containsExactly(true);
            assertThat(onLoop(pool, IdleAckTest::acksAtOnce)).containsExactly(false);
            // The next request takes that connection (newest first), and gives it back when its response is in.
            assertThat(c.get("/").body()).hasSize(SIZE);
            // Polled every millisecond: Awaitility's default (100 ms) is longer than the kernel's delayed-ACK timer,
            // which would set the same state on its own and let the test pass without the change.
            await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
                    .until(() -> pools.idle() == 1);
            List<Boolean> quickAck = onLoop(pool, IdleAckTest::acksAtOnce);
            assertThat(b.accepted()).isEqualTo(1);
            assertThat(quickAck).containsExactly(true);
        }
    }

    private static byte[] response() {
        byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + SIZE
                + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] all = java.util.Arrays.copyOf(head, head.length + SIZE);
        System.arraycopy(Patterns.chunk(SIZE), 0, all, head.length, SIZE);
        return all;
    }

    private static List<Boolean> onLoop(BackendPool pool, java.util.function.Function<Channel, Boolean> step)
            throws Exception {
        return pool.loop().submit(() -> pool.idleChannels().stream().map(step).toList()).get(10, TimeUnit.SECONDS);
    }

    /** False: into the kernel's delayed-ACK ("pingpong") mode. */
    private static boolean setAcksAtOnce(Channel ch, boolean on) {
        if (ch instanceof UnixChannel) {
            return ch.config().setOption(NATIVE_QUICKACK, on ? 1 : 0);
        }
        return ch.config().setOption(NIO_QUICKACK, on);
    }

    private static boolean acksAtOnce(Channel ch) {
        if (ch instanceof UnixChannel) {
            return ch.config().getOption(NATIVE_QUICKACK) == 1;
        }
        return ch.config().getOption(NIO_QUICKACK);
    }
}
