package io.sluice.l4;

import static io.sluice.testing.Proxies.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.ClientHellos;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import io.sluice.testing.Transports;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SNI passthrough on a TCP listener: the ClientHello is read, not terminated, and chooses the cluster; the
 * servers terminate TLS themselves, so a client verifies the server's own certificate through the proxy. The
 * byte tests use raw backends that record what they got, to show the peeked bytes arrive unchanged.
 */
class SniPassthroughTest {
    private static TestCertificates.Ca ca;
    private static SSLContext clientTls;

    private final List<AutoCloseable> resources = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        ca = TestCertificates.newCa("Sluice passthrough test CA");
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ca.trustStore());
        clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, tmf.getTrustManagers(), null);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    // ---- end-to-end TLS through the proxy ----

    @Test
    void twoServerNamesReachTwoClustersThatTerminateTlsThemselves() throws Exception {
        Sluice s = sluice("transport: nio", "", tlsBackend("api", "api.example.com"),
                tlsBackend("web", "*.example.com", "a.b.example.com"), tlsBackend("other", "127.0.0.1"));
        int port = port(s, "front");
        assertThat(tlsClient(port, "api.example.com")).isEqualTo("api saw api.example.com");
        assertThat(tlsClient(port, "shop.example.com")).isEqualTo("web saw shop.example.com");
        assertThat(tlsClient(port, "a.b.example.com")).isEqualTo("web saw a.b.example.com");
        // An IP address: the JDK sends no SNI, so the listener's cluster takes it.
        assertThat(tlsClient(port, "127.0.0.1")).isEqualTo("other saw -");
        String metrics = s.metrics().registry().scrape();
        assertThat(metrics).contains("sluice_tls_passthrough_total{listener=\"front\",result=\"routed\",route=\"api\"} 1.0")
                .contains("sluice_tls_passthrough_total{listener=\"front\",result=\"routed\",route=\"wild\"} 2.0")
                .contains("sluice_tls_passthrough_total{listener=\"front\",result=\"no_sni\",route=\"default\"} 1.0");
    }

    @Test
    void opensslClientVerifiesTheServersOwnCertificate() throws Exception {
        String openssl = needTool("openssl", "openssl");
        Sluice s = sluice("transport: nio", "", tlsBackend("api", "api.example.com"),
                tlsBackend("web", "*.example.com", "a.b.example.com"), tlsBackend("other", "127.0.0.1"));
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        for (String[] c : new String[][] {{"api.example.com", "api"}, {"www.example.com", "web"}}) {
            Process p = new ProcessBuilder(openssl, "s_client", "-connect", "127.0.0.1:" + port(s, "front"),
                    "-servername", c[0], "-verify_hostname", c[0], "-CAfile", caFile.toString(),
                    "-verify_return_error", "-brief", "-ign_eof").redirectErrorStream(true).start();
            p.getOutputStream().close();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(out).contains("Verification: OK").contains(c[1] + " saw " + c[0]);
            assertThat(p.exitValue()).as(out).isZero();
        }
    }

    @Test
    void spliceListenerPeeksFirstThenSplices() throws Exception {
        Transports.assumeAvailable(Transports.SPLICE);
        Sluice s = sluice("transport: epoll", "splice: true", tlsBackend("api", "api.example.com"),
                tlsBackend("web", "*.example.com", "a.b.example.com"), tlsBackend("other", "127.0.0.1"));
        int port = port(s, "front");
        assertThat(tlsClient(port, "api.example.com")).isEqualTo("api saw api.example.com");
        assertThat(tlsClient(port, "x.example.com")).isEqualTo("web saw x.example.com");
    }

    // ---- the bytes: split, re-framed, large; forwarded unchanged ----

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"one write", "7-byte segments", "100-byte records", "20-byte records in 3-byte segments",
            "post-quantum hello in 1000-byte segments", "hello over two records"})
    void theHelloArrivesUnchangedHoweverItIsCut(String how) throws Exception {
        Recording api = recording("api");
        Recording web = recording("web");
        Recording other = recording("other");
        Sluice s = sluice("transport: nio", "", api.backend, web.backend, other.backend);
        byte[] bytes = switch (how) {
            case "one write", "7-byte segments" -> ClientHellos.jdk("api.example.com");
            case "100-byte records" -> ClientHellos.records(ClientHellos.message(ClientHellos.jdk("api.example.com")), 100);
            case "20-byte records in 3-byte segments" ->
                    ClientHellos.records(ClientHellos.message(ClientHellos.jdk("api.example.com")), 20);
            case "post-quantum hello in 1000-byte segments" ->
                    ClientHellos.records(ClientHellos.postQuantum("api.example.com", 300), 16384);
            default -> ClientHellos.records(ClientHellos.postQuantum("api.example.com", 20_000), 16384);
        };
        if (how.startsWith("post-quantum")) {
            assertThat(bytes.length).isGreaterThan(1500);
        } else if (how.startsWith("hello over")) {
            assertThat(bytes.length).isGreaterThan(16384 + 5);
        }
        int segment = switch (how) {
            case "7-byte segments" -> 7;
            case "20-byte records in 3-byte segments" -> 3;
            case "post-quantum hello in 1000-byte segments" -> 1000;
            default -> bytes.length;
        };
        byte[] trailing = "and then the rest of the stream".getBytes(StandardCharsets.US_ASCII);
        String reply = sendRaw(port(s, "front"), ClientHellos.concat(bytes, trailing), segment);
        assertThat(reply).isEqualTo("api");
        assertThat(api.received.poll()).isEqualTo(ClientHellos.concat(bytes, trailing));
        assertThat(web.received).isEmpty();
        assertThat(other.received).isEmpty();
    }

    @Test
    void aHelloOverTheLimitIsRefusedAndCounted() throws Exception {
        Recording api = recording("api");
        Sluice s = sluice("transport: nio", "", api.backend, api.backend, api.backend);
        byte[] huge = ClientHellos.records(ClientHellos.postQuantum("api.example.com", 65_000), 16384);
        assertThat(sendRaw(port(s, "front"), huge, 4096)).isEmpty();
        // The header of a hello claiming more than the limit is enough to refuse it.
        byte[] claim = {0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x02, 0x00, 0x00};
        assertThat(sendRaw(port(s, "front"), claim, claim.length)).isEmpty();
        // Records, but not a ClientHello (an alert).
        assertThat(sendRaw(port(s, "front"), new byte[] {0x16, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28}, 7)).isEmpty();
        assertThat(api.backend.accepted()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> passthrough(s, "", "malformed") == 3);
    }

    // ---- clients that do not send a ClientHello ----

    @Test
    void aSilentClientIsClosedAfterThePeekTimeout() throws Exception {
        Recording api = recording("api");
        Sluice s = sluice("transport: nio", "tls_peek_timeout: 300ms", api.backend, api.backend, api.backend);
        try (Socket c = Proxies.connect(port(s, "front"))) {
            assertThat(c.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(api.backend.accepted()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> passthrough(s, "", "timeout") == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("front").stats().active() == 0);
    }

    @Test
    void aClientThatIsNotTlsGoesToTheListenersCluster() throws Exception {
        Recording api = recording("api");
        Recording other = recording("other");
        Sluice s = sluice("transport: nio", "", api.backend, api.backend, other.backend);
        byte[] text = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(sendRaw(port(s, "front"), text, 1)).isEqualTo("other");
        assertThat(other.received.poll()).isEqualTo(text);
        assertThat(passthrough(s, "default", "not_tls")).isEqualTo(1);
    }

    @Test
    void requireTlsRefusesAClientThatIsNotTls() throws Exception {
        Recording other = recording("other");
        Sluice s = sluice("transport: nio", "passthrough_require_tls: true", other.backend, other.backend,
                other.backend);
        assertThat(sendRaw(port(s, "front"), "GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 100))
                .isEmpty();
        assertThat(other.backend.accepted()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> passthrough(s, "", "not_tls") == 1);
        // A real TLS client still gets through.
        assertThat(sendRaw(port(s, "front"), ClientHellos.jdk("nothing.test"), 1000)).isEqualTo("other");
    }

    @Test
    void requireTlsAloneReadsTheHelloWithoutRoutes() throws Exception {
        Recording other = recording("other");
        Sluice s = Proxies.startTcp("transport: nio", ", passthrough_require_tls: true", other.backend.address());
        resources.add(s);
        assertThat(sendRaw(port(s, "front"), "x".getBytes(StandardCharsets.US_ASCII), 1)).isEmpty();
        assertThat(sendRaw(port(s, "front"), ClientHellos.jdk("a.test"), 1000)).isEqualTo("other");
        assertThat(passthrough(s, "default", "routed")).isEqualTo(1);
    }

    // ---- reload and hashing ----

    @Test
    void aReloadChangesTheRoutesForNewConnections() throws Exception {
        Recording api = recording("api");
        Recording web = recording("web");
        Recording other = recording("other");
        Path file = dir.resolve("sluice.yaml");
        int port = Proxies.freePort();
        Files.writeString(file, config("transport: nio", "", api.backend, web.backend, other.backend)
                .replace("127.0.0.1:0", "127.0.0.1:" + port));
        Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
        resources.add(s);
        assertThat(sendRaw(port, ClientHellos.jdk("api.example.com"), 1000)).isEqualTo("api");
        Files.writeString(file, """
                admin: { enabled: false }
                listeners:
                  - name: front
                    bind: "127.0.0.1:%d"
                    cluster: other
                    routes:
                      - { name: moved, match: { sni: "api.example.com" }, cluster: web }
                clusters:
                  - { name: api, servers: [ { address: "%s" } ] }
                  - { name: web, servers: [ { address: "%s" } ] }
                  - { name: other, servers: [ { address: "%s" } ] }
                """.formatted(port, api.backend.address(), web.backend.address(), other.backend.address()));
        ReloadResult reloaded = s.reloadAsync().get(30, TimeUnit.SECONDS);
        assertThat(reloaded.applied()).as(reloaded.toString()).isTrue();
        assertThat(sendRaw(port, ClientHellos.jdk("api.example.com"), 1000)).isEqualTo("web");
        assertThat(sendRaw(port, ClientHellos.jdk("shop.example.com"), 1000)).isEqualTo("other");
        String metrics = s.metrics().registry().scrape();
        assertThat(metrics).contains("route=\"moved\"").doesNotContain("route=\"wild\"");
    }

    @Test
    void hashKeySniSendsOneNameToOneServer() throws Exception {
        List<TestBackend> servers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            servers.add(backend("s" + i, TestBackend.sayName()));
        }
        Sluice s = Proxies.start("""
                runtime: { transport: nio }
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    algorithm: ring_hash
                    hash_key: sni
                    servers: [ { address: "%s" }, { address: "%s" }, { address: "%s" } ]
                """.formatted(servers.get(0).address(), servers.get(1).address(), servers.get(2).address()));
        resources.add(s);
        int port = port(s, "front");
        Set<String> seen = new HashSet<>();
        for (int n = 0; n < 12; n++) {
            String name = "tenant" + n + ".example.com";
            String first = sendRaw(port, ClientHellos.jdk(name), 1000);
            for (int again = 0; again < 3; again++) {
                assertThat(sendRaw(port, ClientHellos.jdk(name), 1000)).as(name).isEqualTo(first);
            }
            seen.add(first);
        }
        assertThat(seen).as("twelve names over three servers").hasSizeGreaterThan(1);
        assertThat(passthrough(s, "default", "routed")).isEqualTo(48);
    }

    // ---- helpers ----

    /** {@code listenerOptions}: more keys for the listener, e.g. {@code "splice: true"}. */
    private Sluice sluice(String runtime, String listenerOptions, TestBackend api, TestBackend web, TestBackend other)
            throws Exception {
        Sluice s = Proxies.start(config(runtime, listenerOptions, api, web, other));
        resources.add(s);
        return s;
    }

    private static String config(String runtime, String listenerOptions, TestBackend api, TestBackend web,
                                 TestBackend other) {
        return """
                runtime: { %s }
                admin: { enabled: false }
                listeners:
                  - name: front
                    bind: "127.0.0.1:0"
                    cluster: other
                    routes:
                      - { name: api, match: { sni: "api.example.com" }, cluster: api }
                      - { name: wild, match: { sni: "*.example.com" }, cluster: web }
                    %s
                clusters:
                  - { name: api, servers: [ { address: "%s" } ] }
                  - { name: web, servers: [ { address: "%s" } ] }
                  - { name: other, servers: [ { address: "%s" } ] }
                """.formatted(runtime, listenerOptions, api.address(), web.address(), other.address());
    }

    private TestBackend backend(String name, TestBackend.Behaviour behaviour) throws IOException {
        TestBackend b = TestBackend.start(name, behaviour);
        resources.add(b);
        return b;
    }

    /**
     * A server that terminates TLS itself with a certificate for {@code certNames}, and answers with its name and
     * the server name its client asked for.
     */
    private TestBackend tlsBackend(String name, String... certNames) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ca.server(certNames).keyStore(), "secret".toCharArray());
        SSLContext server = SSLContext.getInstance("TLS");
        server.init(kmf.getKeyManagers(), null, null);
        return backend(name, (socket, b) -> {
            try (SSLSocket tls = (SSLSocket) server.getSocketFactory().createSocket(socket, null, socket.getPort(),
                    false)) {
                tls.setUseClientMode(false);
                tls.startHandshake();
                List<SNIServerName> asked = ((ExtendedSSLSession) tls.getSession()).getRequestedServerNames();
                String sni = asked.isEmpty() ? "-" : ((SNIHostName) asked.get(0)).getAsciiName();
                OutputStream out = tls.getOutputStream();
                out.write((name + " saw " + sni + "\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        });
    }

    /** A JDK TLS client for {@code host} (SNI unless an IP address) that checks the certificate's name too. */
    private static String tlsClient(int port, String host) throws IOException {
        try (Socket plain = Proxies.connect(port);
             SSLSocket tls = (SSLSocket) clientTls.getSocketFactory().createSocket(plain, host, port, true)) {
            SSLParameters p = tls.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(p);
            tls.startHandshake();
            return new BufferedReader(new InputStreamReader(tls.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
        }
    }

    /** A raw backend that keeps every byte of each connection and answers with its name after the client's FIN. */
    private record Recording(TestBackend backend, Queue<byte[]> received) {
    }

    private Recording recording(String name) throws IOException {
        Queue<byte[]> received = new ConcurrentLinkedQueue<>();
        TestBackend b = backend(name, (socket, backend) -> {
            received.add(socket.getInputStream().readAllBytes());
            OutputStream out = socket.getOutputStream();
            out.write(name.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.shutdownOutput();
        });
        return new Recording(b, received);
    }

    /**
     * Writes {@code bytes} in writes of {@code segment} bytes (no Nagle: each its own TCP segment), half-closes,
     * and returns what came back before the proxy closed (empty when it refused the client).
     */
    private static String sendRaw(int port, byte[] bytes, int segment) throws IOException {
        try (Socket c = Proxies.connect(port)) {
            c.setTcpNoDelay(true);
            OutputStream out = c.getOutputStream();
            try {
                for (int at = 0; at < bytes.length; at += segment) {
                    out.write(bytes, at, Math.min(segment, bytes.length - at));
                    out.flush();
                }
                c.shutdownOutput();
            } catch (IOException e) {
                // Refused part way: the reply below is empty.
            }
            InputStream in = c.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                in.transferTo(got);
            } catch (IOException e) {
                // A reset after a refusal.
            }
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    private static long passthrough(Sluice s, String route, String result) {
        TcpListener l = (TcpListener) s.listener("front");
        return l.passthrough().count(route, PassthroughStats.Result.valueOf(result.toUpperCase(java.util.Locale.ROOT)));
    }

    /** The tool's path, or a failure on CI and a skip elsewhere when it is missing. */
    private static String needTool(String tool, String debianPackage) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String missing = "this test needs " + tool + ": install Debian's '" + debianPackage + "' package";
        if ("true".equals(System.getenv("CI"))) {
            fail(missing);
        }
        Assumptions.abort(missing);
        return null;
    }
}
