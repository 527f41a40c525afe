package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ClientHellos;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client that sends its ClientHello and then shuts down its sending side can never finish the handshake. The
 * listeners allow half-closed connections (a TCP client may still read after its FIN), so before this was handled
 * such a connection stayed open, engine and pipeline and all, until the engine's 10 s handshake timeout: a
 * flood of them held thousands of connections. The proxy must close it as soon as the FIN arrives, whether the
 * handshake was answered already or still waited for its turn, on HTTP and TCP listeners alike.
 */
class HandshakeHalfCloseTest {
    /** Well under the engine's 10 s handshake timeout, which would also end the connection. */
    private static final int READ_TIMEOUT_MS = 5_000;
    private static final int CLIENTS = 8;

    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("Half Close Test CA");

    @ParameterizedTest(name = "{0} listener, {1}, {2}")
    @CsvSource({
        "http, openssl, after-answer", "http, jdk, after-answer", "tcp, openssl, after-answer",
        "http, openssl, with-hello", "http, jdk, with-hello", "tcp, jdk, with-hello"})
    void aClientThatStopsSendingMidHandshakeIsClosedAtOnce(String protocol, String provider, String when)
            throws Exception {
        Path[] files = TlsFixture.serverFiles(ca, dir, "half", "localhost");
        try (TlsFixture.Backend backend = TlsFixture.Backend.start();
             Sluice s = TlsFixture.start(dir, """
                     runtime: { worker_threads: 1 }
                     admin: { enabled: true, bind: "127.0.0.1:0" }
                     listeners:
                       - name: front
                         bind: "127.0.0.1:0"
                         protocol: %s
                         cluster: app
                         tls: { provider: %s, certificates: [ { cert: "%s", key: "%s" } ] }
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(protocol, provider, files[0], files[1], backend.address()))) {
            int port = Proxies.port(s, "front");
            byte[] hello = ClientHellos.jdk("localhost");
            Socket[] clients = new Socket[CLIENTS];
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients[i] = new Socket();
                    clients[i].connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                    clients[i].setSoTimeout(READ_TIMEOUT_MS);
                }
                for (Socket c : clients) {
                    c.getOutputStream().write(hello);
                    if (when.equals("with-hello")) {
                        c.shutdownOutput(); // most of these wait for their turn when the FIN comes
                    }
                }
                for (Socket c : clients) {
                    InputStream in = c.getInputStream();
                    if (when.equals("after-answer")) {
                        assertThat(in.read()).as("the server's first flight").isEqualTo(0x16);
                        c.shutdownOutput();
                    }
                    // Whatever of the first flight was sent, then end of stream, not the read timeout.
                    while (in.read(new byte[4096]) >= 0) {
                        // drain
                    }
                }
            } finally {
                for (Socket c : clients) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String metrics = Proxies.admin(s, "/metrics").body();
                assertThat(Proxies.sample(metrics,
                        "sluice_tls_handshakes_total{listener=\"front\",result=\"failure\",version=\"none\"}"))
                        .isEqualTo(CLIENTS);
                assertThat(Proxies.sample(metrics, "sluice_tls_handshake_errors_total{listener=\"front\",reason=\"closed\"}"))
                        .isEqualTo(CLIENTS);
            });
        }
    }
}
