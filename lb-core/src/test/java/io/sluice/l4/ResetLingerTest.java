package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server resets while the relay still has bytes for the client: the relay writes them, finishes the client's
 * output (behind TLS offload with a close_notify, then the FIN) and reads and drops what the client still sends
 * until the client's input ends or the listener's idle timeout, which what the client sends does not hold off.
 * Closing the client at once lost the bytes: the client's next bytes reached a closed socket, and Linux's reset
 * dropped what that socket's send buffer still held.
 */
class ResetLingerTest {
    private static final int CHUNK = 64 * 1024;
    /** Far more than the sockets and buffers between the server and a client that does not read hold. */
    private static final int MAX_CHUNKS = 512;

    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("Reset linger CA");

    /**
     * Both ways blocked (the server takes none of the client's upload, the client reads none of the server's
     * download), then the server resets: the client still gets every byte the relay read from the server, and
     * then a clean end, a close_notify behind TLS. The client's upload stays unread in the relay's socket until
     * the relay reads it, and closing that socket then reset the connection and dropped the megabytes of the
     * download its send buffer still held. TLS offload always relays through channels; io_uring's mode there
     * therefore is {@link Transports#CHANNELS}. Without TLS, io_uring is also tried on its relay without channels
     * ({@link UringConnection}), which lost 1.6 of 4.1 MB in every run before it lingered too.
     */
    @ParameterizedTest(name = "transport={0}, tls={1}")
    @CsvSource({
        Transports.CHANNELS + ", true", "epoll, true", "nio, true",
        "io_uring, false", Transports.CHANNELS + ", false", "epoll, false", "nio, false", Transports.SPLICE + ", false",
    })
    void aServerResetWhileBothWaysAreBlockedLosesNoByteOfTheDownload(String transport, boolean tls) throws Exception {
        Transports.assumeAvailable(transport);
        byte[] chunk = Patterns.chunk(CHUNK);
        AtomicLong written = new AtomicLong();
        CompletableFuture<Socket> accepted = new CompletableFuture<>();
        try (TestBackend b = TestBackend.start("b", (socket, backend) -> {
            // The client's first byte: the relay is in place. The rest of its upload is never read.
            if (socket.getInputStream().read() < 0) {
                return;
            }
            accepted.complete(socket);
            try {
                for (int i = 0; i < MAX_CHUNKS; i++) {
                    socket.getOutputStream().write(chunk);
                    written.addAndGet(chunk.length);
                }
            } catch (IOException reset) {
                // the test reset this socket under the write
            }
        });
             Sluice s = tls ? startTls(transport, b.address()) : Proxies.startTcpMode(transport, "", b.address());
             Socket c = tls ? tlsClient(Proxies.port(s, "front")) : Proxies.connect(Proxies.port(s, "front"))) {
            c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
            Server server = s.cluster("app").servers().get(0);
            AtomicLong uploaded = new AtomicLong();
            AtomicBoolean stopUploading = new AtomicBoolean();
            Thread uploader = new Thread(() -> {
                byte[] up = new byte[16 * 1024];
                try {
                    OutputStream out = c.getOutputStream();
                    while (!stopUploading.get()) {
                        out.write(up);
                        out.flush();
                        uploaded.addAndGet(up.length);
                    }
                } catch (IOException ended) {
                    // the connection ended under the write: what the client reads tells whether that was right
                }
            }, "uploader");
            uploader.setDaemon(true);
            uploader.start();
            Socket backendSide = accepted.get(10, TimeUnit.SECONDS);
            // Every buffer on the way is full, both ways: the server's writes and the client's stop.
            awaitStalled(() -> written.get() + uploaded.get());
            assertThat(written.get()).isPositive().isLessThan((long) MAX_CHUNKS * CHUNK);
            assertThat(uploaded.get()).isPositive();
            backendSide.setSoLinger(true, 0);
            backendSide.close(); // a reset
            stopUploading.set(true);

            long got = 0;
            String end = "a clean end";
            byte[] buf = new byte[256 * 1024];
            try {
                InputStream in = c.getInputStream();
                int n;
                while ((n = in.read(buf)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] != chunk[(int) ((got + i) % CHUNK)]) {
                            throw new AssertionError("byte " + (got + i) + " is not the server's");
                        }
                    }
                    got += n;
                }
                // -1: the end, behind TLS the close_notify that the relay sends before its FIN
            } catch (SocketTimeoutException hang) {
                throw hang;
            } catch (IOException reset) {
                end = reset.toString(); // a reset (behind TLS, may come as an SSLException): the failure this test is for
            }
            long relayed = server.bytesReceived().sum();
            assertThat(relayed).isPositive();
            assertThat(got).as("bytes the client got of the %d the relay read from the server, before %s", relayed, end)
                    .isEqualTo(relayed);
            assertThat(end).as("how the download ended").isEqualTo("a clean end");
            uploader.join(10_000); // its last write ends once the relay drops what it sends, or the socket closes
        }
    }

    /**
     * After a server's reset, a client that keeps sending (and is never told to stop: its bytes are read and
     * dropped) is still closed by the listener's idle timeout. The relay reads what it sends only to drop it,
     * and those reads must not count as activity, or such a client would keep its connection forever.
     */
    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", Transports.CHANNELS, "epoll", "nio", Transports.SPLICE})
    void aClientThatKeepsSendingAfterAServerResetIsClosedByTheIdleTimeout(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend dying = TestBackend.start("a", BackendResetTest.lastWordsThenReset());
             Sluice s = Proxies.startTcp(runtime(transport, ""),
                     (Transports.isSplice(transport) ? ", splice: true" : "") + ", idle_timeout: 1s", dying.address());
             Socket c = Proxies.connect(Proxies.port(s, "front"))) {
            c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
            OutputStream out = c.getOutputStream();
            out.write('x');
            out.flush();
            assertThat(BackendResetTest.readUntilEnd(c.getInputStream())).isEqualTo("last words");
            // A byte every 100 ms, far more often than the idle timeout: only the relay's close stops it (the
            // reset that answers a byte sent to a closed socket fails the next send).
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try {
                    out.write('y');
                    out.flush();
                    return false;
                } catch (IOException closed) {
                    return true;
                }
            });
        }
    }

    /** The runtime line of a test mode, as {@link Proxies#startTcpMode} builds it. */
    private static String runtime(String mode, String extra) {
        return "transport: " + Transports.transportOf(mode) + Transports.runtimeExtraOf(mode) + extra;
    }

    /** TLS offload on the listener {@code front}: the client speaks TLS, the server plain TCP. */
    private Sluice startTls(String mode, String serverAddress) throws Exception {
        Path[] cert = ca.server("localhost").writePem(dir, "front");
        return Proxies.startTcp(runtime(mode, ""), ", tls: { certificates: [ { cert: \"%s\", key: \"%s\" } ] }"
                .formatted(cert[0], cert[1]), serverAddress);
    }

    private Socket tlsClient(int port) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ca.trustStore());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", port);
        socket.setSoTimeout(10_000);
        socket.startHandshake();
        return socket;
    }

    /** Waits until {@code progress} has not moved for a while (polls 100 ms apart, for 300 ms). */
    private static void awaitStalled(LongSupplier progress) {
        long[] last = {-1};
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).during(Duration.ofMillis(300))
                .until(() -> {
                    long now = progress.getAsLong();
                    boolean still = now > 0 && now == last[0];
                    last[0] = now;
                    return still;
                });
    }
}
