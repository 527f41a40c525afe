package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server that sends a few bytes and resets the connection, many times over on each transport: the client must
 * get every byte and then see its connection end, never be left waiting (see the HTTP test of the same name for
 * the transport bug this guards against).
 */
class BackendResetTest {
    private static final int ROUNDS = 25;

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", Transports.CHANNELS, "epoll", "nio", Transports.SPLICE})
    void everyResetReachesTheClient(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend dying = TestBackend.start("a", lastWordsThenReset());
             Sluice s = Proxies.startTcpMode(transport, ", worker_threads: 1", dying.address())) {
            int port = Proxies.port(s, "front");
            for (int i = 0; i < ROUNDS; i++) {
                try (Socket c = Proxies.connect(port)) {
                    c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
                    c.getOutputStream().write('x');
                    c.getOutputStream().flush();
                    assertThat(readUntilEnd(c.getInputStream())).as("round %d", i).isEqualTo("last words");
                }
            }
        }
    }

    /**
     * A server resets while the relay's send to the client is blocked (every buffer on the way full) and the
     * client's next byte to it fails: what the relay has already read from the server still reaches the client.
     * The channel relay once closed the client at once here, dropping up to a MiB queued for it.
     */
    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", Transports.CHANNELS, "epoll", "nio", Transports.SPLICE})
    void aServerThatResetsLosesNoByteAlreadyOnItsWayToTheClient(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        AtomicLong written = new AtomicLong();
        CompletableFuture<Socket> accepted = new CompletableFuture<>();
        try (TestBackend b = TestBackend.start("b", (socket, backend) -> {
            accepted.complete(socket);
            byte[] chunk = new byte[64 * 1024];
            try {
                // More than the sockets between here and the client hold: the relay's send to the client blocks.
                for (int i = 0; i < 512; i++) {
                    socket.getOutputStream().write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException reset) {
                // the test reset this socket under the write
            }
        });
             Sluice s = Proxies.startTcpMode(transport, "", b.address())) {
            Server server = s.cluster("app").servers().get(0);
            try (Socket c = Proxies.connect(Proxies.port(s, "front"))) {
                c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
                Socket backendSide = accepted.get(10, TimeUnit.SECONDS);
                // The server's writes stop once every buffer on the way is full.
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .during(Duration.ofMillis(300)).until(written::get, w -> w > 0 && w < 512L * 64 * 1024);
                backendSide.setSoLinger(true, 0);
                backendSide.close(); // a reset
                c.getOutputStream().write('x'); // relayed to the reset server: that send fails
                c.getOutputStream().flush();
                long got = 0;
                byte[] buf = new byte[256 * 1024];
                try {
                    int n;
                    while ((n = c.getInputStream().read(buf)) > 0) {
                        got += n;
                    }
                } catch (java.net.SocketException reset) {
                    // counted below: a reset before the last byte is the failure this test is for
                }
                long relayed = server.bytesReceived().sum();
                assertThat(relayed).isPositive();
                assertThat(got).isEqualTo(relayed);
            }
        }
    }

    /**
     * A server that waits for the client's first byte (so the relay is in place), sends "last words" and resets the
     * connection.
     */
    static TestBackend.Behaviour lastWordsThenReset() {
        return (socket, b) -> {
            if (socket.getInputStream().read() < 0) {
                return;
            }
            socket.getOutputStream().write("last words".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.setSoLinger(true, 0);
            socket.close();
        };
    }

    /** What arrived before the connection ended, by FIN or by reset; a read timeout fails the test. */
    static String readUntilEnd(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (SocketException e) {
            // reset: the end as well
        }
        return got.toString(StandardCharsets.US_ASCII);
    }
}
