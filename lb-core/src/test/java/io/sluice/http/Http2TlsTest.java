package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** HTTP/2 over TLS, chosen by ALPN (h2 preferred by default), beside HTTP/1.1 on the same port: curl, openssl, h2load, the JDK. */
class Http2TlsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void alpnChoosesH2OrHttp11AndBothAreServed(String provider) throws Exception {
        TestCertificates.Ca ca = TestCertificates.newCa("H2 Test CA");
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        Path[] cert = ca.server("localhost").writePem(dir, "localhost");
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - name: web
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         tls: { provider: %s, certificates: [ { cert: "%s", key: "%s" } ] }
                     clusters:
                       - { name: app, algorithm: round_robin, servers: [ { address: "%s" }, { address: "%s" } ] }
                     """.formatted(provider, cert[0], cert[1], a.address(), b.address()))) {
            int port = Proxies.port(s, "web");
            String url = "https://localhost:" + port + "/x";
            String resolve = "localhost:" + port + ":127.0.0.1";

            ExternalTool curl = ExternalTool.require("curl", "curl");
            ExternalTool.Run h2 = curl.run("", "-sS", "--http2", "--cacert", caFile.toString(), "--resolve", resolve,
                    "-w", "\n%{http_version}", url);
            assertThat(h2.output()).as(h2.output()).matches("(?s)[ab] GET /x\n2");
            ExternalTool.Run h1 = curl.run("", "-sS", "--http1.1", "--cacert", caFile.toString(), "--resolve", resolve,
                    "-w", "\n%{http_version}", url);
            assertThat(h1.output()).as(h1.output()).matches("(?s)[ab] GET /x\n1.1");

            ExternalTool openssl = ExternalTool.require("openssl", "openssl");
            assertThat(openssl.run("", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                    "-alpn", "h2,http/1.1").output()).contains("ALPN protocol: h2");

            // Many streams over a few TLS connections, spread over both servers.
            ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
            ExternalTool.Run load = h2load.run("", "-n", "200", "-c", "2", "-m", "10", url);
            assertThat(load.output()).as(load.output()).contains("200 succeeded, 0 failed, 0 errored");
            assertThat(a.requests).hasSizeGreaterThan(50);
            assertThat(b.requests).hasSizeGreaterThan(50);
            // Every client so far has exited: their connections end with their FIN, HTTP/2 ones too (they used
            // to stay in CLOSE_WAIT until the idle timeout).
            await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);

            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ca.trustStore());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            HttpClient jdk = HttpClient.newBuilder().sslContext(ctx).build();
            HttpResponse<String> r = jdk.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
        }
    }
}
