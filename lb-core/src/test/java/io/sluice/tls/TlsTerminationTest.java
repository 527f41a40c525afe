package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An https listener with two certificates, on each TLS engine, seen by real clients: openssl s_client (which
 * certificate, version, ALPN), curl (requests by name with --resolve), the JDK HttpClient, and a plaintext client.
 */
class TlsTerminationTest {
    @TempDir
    Path dir;

    private TestCertificates.Ca ca;
    private Path caFile;

    @BeforeEach
    void certificates() {
        ca = TestCertificates.newCa("Termination Test CA");
        caFile = ca.writePem(dir.resolve("ca.pem"));
    }

    private Sluice start(String provider, TlsFixture.Backend backend) throws Exception {
        Path[] api = TlsFixture.serverFiles(ca, dir, "api", "api.example.com", "localhost");
        Path[] wild = TlsFixture.serverFiles(ca, dir, "wild", "*.example.com");
        return TlsFixture.start(dir, """
                admin: { enabled: true, bind: "127.0.0.1:0" }
                listeners:
                  - name: https
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { forwarded: true, hsts: "max-age=600; includeSubDomains" }
                    tls:
                      provider: %s
                      certificates:
                        - { cert: "%s", key: "%s" }
                        - { cert: "%s", key: "%s" }
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(provider, api[0], api[1], wild[0], wild[1], backend.address()));
    }

    private ExternalTool.Run sClient(int port, String... options) throws Exception {
        ExternalTool openssl = ExternalTool.require("openssl", "openssl");
        String[] args = new String[6 + options.length];
        args[0] = "s_client";
        args[1] = "-connect";
        args[2] = "127.0.0.1:" + port;
        args[3] = "-CAfile";
        args[4] = caFile.toString();
        args[5] = "-verify_return_error";
        System.arraycopy(options, 0, args, 6, options.length);
        return openssl.run("", args);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void eachNameGetsItsCertificateAndRequestsGoThrough(String provider) throws Exception {
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = start(provider, backend)) {
            int port = Proxies.port(s, "https");

            ExternalTool.Run api = sClient(port, "-servername", "api.example.com", "-alpn", "http/1.1");
            assertThat(api.output()).contains("subject=CN = api.example.com", "Verify return code: 0 (ok)",
                    "ALPN protocol: http/1.1", "New, TLSv1.3");
            ExternalTool.Run other = sClient(port, "-servername", "www.example.com");
            assertThat(other.output()).contains("subject=CN = *.example.com", "Verify return code: 0 (ok)");
            ExternalTool.Run deep = sClient(port, "-servername", "a.b.example.com");
            assertThat(deep.output()).as("a wildcard covers one label; the default is the first certificate")
                    .contains("subject=CN = api.example.com");
            ExternalTool.Run noSni = sClient(port, "-noservername");
            assertThat(noSni.output()).contains("subject=CN = api.example.com");
            ExternalTool.Run tls12 = sClient(port, "-servername", "api.example.com", "-tls1_2", "-alpn", "http/1.1");
            assertThat(tls12.output()).contains("New, TLSv1.2", "ALPN protocol: http/1.1");

            ExternalTool curl = ExternalTool.require("curl", "curl");
            for (String host : new String[] {"api.example.com", "www.example.com"}) {
                ExternalTool.Run r = curl.run("", "-sS", "--cacert", caFile.toString(), "--resolve",
                        host + ":" + port + ":127.0.0.1", "https://" + host + ":" + port + "/hello");
                assertThat(r.code()).as(r.output()).isZero();
                assertThat(r.output()).contains("proto=https", "forwarded=for=127.0.0.1;host=\"" + host + ":" + port
                        + "\";proto=https");
            }

            HttpClient jdk = HttpClient.newBuilder().sslContext(TlsFixture.clientContext(ca, null))
                    .version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(
                    URI.create("https://localhost:" + port + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("proto=https");
            assertThat(r.headers().firstValue("strict-transport-security")).hasValue("max-age=600; includeSubDomains");

            String metrics = Proxies.admin(s, "/metrics").body();
            assertThat(Proxies.sample(metrics,
                    "sluice_tls_handshakes_total{listener=\"https\",result=\"success\",version=\"TLSv1.3\"}"))
                    .isGreaterThanOrEqualTo(6);
            assertThat(Proxies.sample(metrics,
                    "sluice_tls_handshakes_total{listener=\"https\",result=\"success\",version=\"TLSv1.2\"}"))
                    .isEqualTo(1);
            assertThat(metrics).contains("sluice_tls_certificate_expiry_timestamp_seconds{listener=\"https\","
                    + "name=\"api.example.com\"}", "name=\"*.example.com\"}");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void aPlaintextClientIsClosedAndCounted(String provider) throws Exception {
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = start(provider, backend)) {
            int port = Proxies.port(s, "https");
            try (Socket plain = new Socket("127.0.0.1", port)) {
                plain.setSoTimeout(10_000);
                OutputStream out = plain.getOutputStream();
                out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = plain.getInputStream();
                byte[] got = in.readAllBytes();
                assertThat(new String(got, StandardCharsets.ISO_8859_1)).doesNotContain("HTTP/1.1 200");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> Proxies.sample(Proxies.admin(s, "/metrics").body(),
                    "sluice_tls_handshake_errors_total{listener=\"https\",reason=\"not_tls\"}") == 1);
            // The listener goes on serving TLS clients.
            ExternalTool.Run ok = sClient(port, "-servername", "api.example.com");
            assertThat(ok.output()).contains("Verify return code: 0 (ok)");
        }
    }
}
