package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Haproxy;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol headers in front of an HTTP listener, from a real HAProxy ({@code send-proxy} and
 * {@code send-proxy-v2}) and written by hand: the address they carry is the client's in the forwarded headers,
 * and what should not be believed closes the connection and is counted.
 */
class ProxyProtocolAcceptTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private HttpBackend backend() throws IOException {
        return resources.keep(new HttpBackend("a", HttpBackend.sayName("a")));
    }

    private Sluice sluice(String proxyProtocol, HttpBackend backend) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { forwarded: true }
                    proxy_protocol: %s
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(proxyProtocol, backend.address())));
    }

    private static String send(String from, int port, String bytes) throws IOException {
        return Proxies.sendFrom(from, port, bytes);
    }

    private static final String GET = "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    @Test
    void handWrittenHeaderFromATrustedSourceNamesTheClient() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice("{ accept: true, trusted: [\"127.0.0.1/32\"] }", backend);
        String answer = send("127.0.0.1", Proxies.port(s, "web"),
                "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + GET);
        assertThat(answer).startsWith("HTTP/1.1 200");
        HttpBackend.Request seen = backend.last();
        assertThat(seen.header("x-forwarded-for")).isEqualTo("203.0.113.7");
        assertThat(seen.header("forwarded")).startsWith("for=203.0.113.7;");
    }

    @Test
    void haproxySendProxyV2AndV1InFront() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice("{ accept: true, trusted: [\"127.0.0.1/32\"] }", backend);
        int sluicePort = Proxies.port(s, "web");
        Haproxy haproxy = resources.keep(Haproxy.start(dir, "tcp", """
                frontend v2
                    bind 127.0.0.1:%PORT%
                    default_backend sluice_v2
                backend sluice_v2
                    server s 127.0.0.1:SLUICE send-proxy-v2
                """.replace("SLUICE", Integer.toString(sluicePort))));
        // The client speaks from 127.0.0.2: only the header can tell Sluice, which sees HAProxy on 127.0.0.1.
        String answer = send("127.0.0.2", haproxy.port(), GET);
        assertThat(answer).as(haproxy.output()).startsWith("HTTP/1.1 200");
        assertThat(backend.last().header("x-forwarded-for")).isEqualTo("127.0.0.2");
        haproxy.close();

        Path v1 = dir.resolve("v1");
        java.nio.file.Files.createDirectories(v1);
        Haproxy haproxyV1 = resources.keep(Haproxy.start(v1, "tcp", """
                frontend v1
                    bind 127.0.0.1:%PORT%
                    default_backend sluice_v1
                backend sluice_v1
                    server s 127.0.0.1:SLUICE send-proxy
                """.replace("SLUICE", Integer.toString(sluicePort))));
        assertThat(send("127.0.0.3", haproxyV1.port(), GET)).startsWith("HTTP/1.1 200");
        assertThat(backend.last().header("x-forwarded-for")).isEqualTo("127.0.0.3");
    }

    @Test
    void untrustedSourceIsClosedAndCounted() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice("{ accept: true, trusted: [\"10.0.0.0/8\"] }", backend);
        String answer = send("127.0.0.1", Proxies.port(s, "web"),
                "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + GET);
        assertThat(answer).isEmpty();
        assertThat(backend.requests).isEmpty();
        awaitErrors(s, "untrusted", 1);
    }

    @Test
    void malformedAndTruncatedHeadersAreClosedAndCounted() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice("{ accept: true, trusted: [\"127.0.0.1/32\"] }", backend);
        int port = Proxies.port(s, "web");
        assertThat(send("127.0.0.1", port, GET)).isEmpty();
        awaitErrors(s, "malformed", 1);
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            c.getOutputStream().write("PROXY TCP4 203.0.".getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
        }
        awaitErrors(s, "truncated", 1);
        assertThat(backend.requests).isEmpty();
    }

    @Test
    void optionalTakesClientsWithAndWithoutAHeader() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice("{ accept: optional, trusted: [\"127.0.0.1/32\"] }", backend);
        int port = Proxies.port(s, "web");
        assertThat(send("127.0.0.1", port, GET)).startsWith("HTTP/1.1 200");
        assertThat(backend.last().header("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(send("127.0.0.1", port, "PROXY TCP4 198.51.100.4 127.0.0.1 5555 80\r\n" + GET))
                .startsWith("HTTP/1.1 200");
        assertThat(backend.last().header("x-forwarded-for")).isEqualTo("198.51.100.4");
    }

    @Test
    void theHeaderComesBeforeTheClientHelloOnATlsListener() throws Exception {
        HttpBackend backend = backend();
        TestCertificates.Ca ca = TestCertificates.newCa("PROXY Test CA");
        Path[] cert = ca.server("localhost").writePem(dir, "localhost");
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    tls: { certificates: [ { cert: "%s", key: "%s" } ] }
                    proxy_protocol: { accept: true, trusted: ["127.0.0.1/32"] }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(cert[0], cert[1], backend.address())));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ca.trustStore());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        int port = Proxies.port(s, "web");
        try (Socket raw = Proxies.connect(port)) {
            raw.getOutputStream().write("PROXY TCP4 203.0.113.9 127.0.0.1 5555 443\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            raw.getOutputStream().flush();
            try (SSLSocket tls = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "localhost", port, true)) {
                tls.getOutputStream().write(GET.getBytes(StandardCharsets.US_ASCII));
                tls.getOutputStream().flush();
                assertThat(new String(tls.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1))
                        .startsWith("HTTP/1.1 200");
            }
        }
        assertThat(backend.last().header("x-forwarded-for")).isEqualTo("203.0.113.9");
    }

    private static void awaitErrors(Sluice s, String reason, double expected) {
        String name = "sluice_listener_proxy_protocol_errors_total{listener=\"web\",reason=\"" + reason + "\"}";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(Proxies.sample(Proxies.admin(s, "/metrics").body(), name)).isEqualTo(expected));
    }
}
