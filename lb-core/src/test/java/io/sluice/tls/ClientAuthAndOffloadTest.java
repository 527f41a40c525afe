package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Mutual TLS (require, optional, none) with the JDK HttpClient, and TLS offload on a tcp listener. */
class ClientAuthAndOffloadTest {
    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("Server CA");
    private final TestCertificates.Ca clients = TestCertificates.newCa("Clients CA");
    private final TestCertificates.Ca strangers = TestCertificates.newCa("Strangers CA");

    private Sluice start(String clientAuth, String provider, TlsFixture.Backend backend) throws Exception {
        Path[] server = TlsFixture.serverFiles(ca, dir, "server", "localhost");
        Path clientCa = clients.writePem(dir.resolve("clients-ca.pem"));
        String auth = clientAuth.equals("none") ? "" : ", client_auth: " + clientAuth + ", client_ca: \"" + clientCa + "\"";
        return TlsFixture.start(dir, """
                admin: { enabled: true, bind: "127.0.0.1:0" }
                listeners:
                  - { name: mtls, bind: "127.0.0.1:0", protocol: http, cluster: app,
                      tls: { provider: %s, certificates: [ { cert: "%s", key: "%s" } ]%s } }
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(provider, server[0], server[1], auth, backend.address()));
    }

    private static int get(Sluice s, SSLContext tls) throws Exception {
        HttpClient client = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + Proxies.port(s, "mtls") + "/"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /**
     * curl with a client certificate of another CA: the JDK's client would not send one that the server's list
     * of accepted CAs does not name, curl sends what it is given. Returns curl's exit code.
     */
    private int curlWithStranger(Sluice s) throws Exception {
        Path[] mallory = strangers.client("mallory").writePem(dir, "mallory");
        Path caFile = ca.writePem(dir.resolve("server-ca.pem"));
        ExternalTool.Run r = ExternalTool.require("curl", "curl").run("", "-sS", "--cacert", caFile.toString(),
                "--cert", mallory[0].toString(), "--key", mallory[1].toString(),
                "https://localhost:" + Proxies.port(s, "mtls") + "/");
        return r.code();
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void requireTakesOnlyCertificatesOfTheClientCa(String provider) throws Exception {
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = start("require", provider, backend)) {
            assertThat(get(s, TlsFixture.clientContext(ca, clients.client("alice")))).isEqualTo(200);
            assertThatThrownBy(() -> get(s, TlsFixture.clientContext(ca, null))).isInstanceOf(IOException.class);
            assertThat(curlWithStranger(s)).as("curl's exit code").isNotZero();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String m = Proxies.admin(s, "/metrics").body();
                assertThat(Proxies.sample(m, "sluice_tls_handshake_errors_total{listener=\"mtls\",reason=\"client_certificate_missing\"}"))
                        .isGreaterThanOrEqualTo(1); // the JDK client tries twice
                assertThat(Proxies.sample(m, "sluice_tls_handshake_errors_total{listener=\"mtls\",reason=\"client_certificate_rejected\"}"))
                        .isEqualTo(1);
            });
        }
    }

    @Test
    void optionalTakesClientsWithAndWithoutAndNoneAsksForNothing() throws Exception {
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = start("optional", "auto", backend)) {
            assertThat(get(s, TlsFixture.clientContext(ca, clients.client("alice")))).isEqualTo(200);
            assertThat(get(s, TlsFixture.clientContext(ca, null))).isEqualTo(200);
            assertThat(curlWithStranger(s)).as("curl's exit code").isNotZero();
        }
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = start("none", "auto", backend)) {
            assertThat(get(s, TlsFixture.clientContext(ca, strangers.client("mallory")))).isEqualTo(200);
            assertThat(get(s, TlsFixture.clientContext(ca, null))).isEqualTo(200);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aTcpListenerOffloadsTlsToAPlainBackend(String provider) throws Exception {
        Path[] server = TlsFixture.serverFiles(ca, dir, "echo", "localhost");
        try (TestBackend echo = TestBackend.start("echo", TestBackend.echo());
             Sluice s = TlsFixture.start(dir, """
                     admin: { enabled: false }
                     listeners:
                       - { name: tcps, bind: "127.0.0.1:0", cluster: echo,
                           tls: { provider: %s, certificates: [ { cert: "%s", key: "%s" } ] } }
                     clusters: [ { name: echo, servers: [ { address: "%s" } ] } ]
                     """.formatted(provider, server[0], server[1], echo.address()))) {
            SSLContext tls = TlsFixture.clientContext(ca, null);
            for (int i = 0; i < 3; i++) {
                try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("localhost", Proxies.port(s, "tcps"))) {
                    socket.setSoTimeout(10_000);
                    byte[] text = ("hello over tls " + i + "\n").repeat(2000).getBytes(StandardCharsets.US_ASCII);
                    OutputStream out = socket.getOutputStream();
                    out.write(text);
                    out.flush();
                    InputStream in = socket.getInputStream();
                    byte[] back = in.readNBytes(text.length);
                    assertThat(back).isEqualTo(text);
                }
            }
            assertThat(echo.bytesWritten()).isGreaterThan(0);
        }
    }

    /**
     * TLS offload connects to a server only after the client's handshake: a plaintext client or one that never
     * finishes costs no server connection, and a client still handshaking counts against max_connections.
     */
    @Test
    void offloadConnectsOnlyAfterTheHandshakeAndAdmitsBeforeIt() throws Exception {
        Path[] server = TlsFixture.serverFiles(ca, dir, "echo2", "localhost");
        try (TestBackend echo = TestBackend.start("echo", TestBackend.echo());
             Sluice s = TlsFixture.start(dir, """
                     admin: { enabled: true, bind: "127.0.0.1:0" }
                     listeners:
                       - { name: tcps, bind: "127.0.0.1:0", cluster: echo, max_connections: 1,
                           tls: { certificates: [ { cert: "%1$s", key: "%2$s" } ] } }
                       - { name: https, bind: "127.0.0.1:0", protocol: http, cluster: echo, max_connections: 1,
                           tls: { certificates: [ { cert: "%1$s", key: "%2$s" } ] } }
                     clusters: [ { name: echo, servers: [ { address: "%3$s" } ] } ]
                     """.formatted(server[0], server[1], echo.address()))) {
            for (String listener : new String[] {"tcps", "https"}) {
                int p = Proxies.port(s, listener);
                try (java.net.Socket silent = Proxies.connect(p)) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> Proxies.sample(Proxies.admin(s, "/metrics")
                            .body(), "sluice_listener_connections_active{listener=\"" + listener + "\"}") == 1);
                    // The silent client holds the one place: a second client is turned away before any handshake.
                    SSLContext tls = TlsFixture.clientContext(ca, null);
                    try (SSLSocket second = (SSLSocket) tls.getSocketFactory().createSocket("localhost", p)) {
                        second.setSoTimeout(10_000);
                        assertThatThrownBy(second::startHandshake).isInstanceOf(IOException.class);
                    }
                }
            }
            assertThat(echo.accepted()).as("no server connection for clients without a handshake").isZero();
            int port = Proxies.port(s, "tcps");
            try (java.net.Socket plain = Proxies.connect(port)) {
                plain.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                plain.setSoTimeout(10_000);
                // Closed at its first byte: a FIN, or a reset when the rest of what it sent was left unread.
                int got;
                try {
                    got = plain.getInputStream().read();
                } catch (java.net.SocketException reset) {
                    got = -1;
                }
                assertThat(got).as("closed at its first byte").isEqualTo(-1);
            }
            assertThat(echo.accepted()).isZero();
        }
    }
}
