package io.sluice.l4;

import io.sluice.net.Transport;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** 64 MiB each way through the proxy, echoed by a real backend, compared by digest. */
class LargeTransferTest {
    private static final long SIZE = 64L << 20;

    @ParameterizedTest(name = "transport={0}")
    // epoll: the client half-closes while the echo is still coming back; bare Netty 4.2.18 epoll truncated the
    // answer now and then (64,746,812 of 67,108,864 bytes once) until EpollInterest kept the socket registered.
    @ValueSource(strings = {"nio", "io_uring", Transports.CHANNELS, "epoll", Transports.SPLICE})
    void sixtyFourMebibytesEachWayArriveIntact(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend echo = TestBackend.start("echo", TestBackend.echo());
             Sluice s = Proxies.startTcpMode(transport, "", echo.address());
             Socket client = Proxies.connect(Proxies.port(s, "front"))) {

            byte[] chunk = Patterns.chunk(256 * 1024);
            MessageDigest sent = Patterns.sha256();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = client.getOutputStream();
                    for (long left = SIZE; left > 0; left -= chunk.length) {
                        int n = (int) Math.min(chunk.length, left);
                        out.write(chunk, 0, n);
                        sent.update(chunk, 0, n);
                    }
                    out.flush();
                    client.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });

            MessageDigest received = Patterns.sha256();
            InputStream in = client.getInputStream();
            byte[] buf = new byte[128 * 1024];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                received.update(buf, 0, n);
                total += n;
            }
            writer.join();

            assertThat(total).isEqualTo(SIZE);
            assertThat(received.digest()).isEqualTo(sent.digest());
            var server = s.cluster("app").servers().get(0);
            assertThat(server.bytesSent().sum()).isEqualTo(SIZE);
            assertThat(server.bytesReceived().sum()).isEqualTo(SIZE);
            assertThat(s.transport().name()).isEqualTo(Transports.transportOf(transport));
            if (Transports.isSplice(transport)) {
                // Splice mode really spliced: only the splice relay takes pipes.
                assertThat(((TcpListener) s.listener("front")).splicer().pipesCreated()).isPositive();
            }
        }
    }
}
