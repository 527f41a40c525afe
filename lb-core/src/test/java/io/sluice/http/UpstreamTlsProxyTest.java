package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Cluster;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import io.sluice.testing.TestTls;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS from Sluice to its servers, end to end: an HTTP or TCP listener in front of real TLS backends, with the
 * engine chosen as in production (OpenSSL when it loads). Both engines are compared in UpstreamTlsTest.
 */
class UpstreamTlsProxyTest {
    private static final TestCertificates.Ca CA = TestCertificates.newCa("Backends CA");
    private static final TestCertificates.Ca OTHER_CA = TestCertificates.newCa("Unrelated CA");

    @TempDir
    Path dir;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private <T extends AutoCloseable> T keep(T t) {
        resources.add(t);
        return t;
    }

    private String ca() {
        return CA.writePem(dir.resolve("ca.pem")).toString();
    }

    private Sluice start(String yaml) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml);
        return keep(Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "test"));
    }

    private ReloadResult reload(Sluice s, String yaml) throws Exception {
        Files.writeString(dir.resolve("sluice.yaml"), yaml);
        return s.reloadAsync().get(30, TimeUnit.SECONDS);
    }

    /** One HTTP listener, {@code web}, in front of cluster {@code app} with {@code tls} and the given servers. */
    private static String http(String tls, String extra, String... servers) {
        StringBuilder sb = new StringBuilder("""
                runtime: { worker_threads: 1 }
                admin: { enabled: true, bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    connect_timeout: 2s
                    connect_retries: 0
                """);
        if (!tls.isEmpty()) {
            sb.append("    tls: ").append(tls).append('\n');
        }
        sb.append(extra);
        sb.append("    servers:\n");
        for (String s : servers) {
            sb.append("      - { address: \"").append(s).append("\" }\n");
        }
        return sb.toString();
    }

    private HttpBackend https(String name, TestTls tls) throws Exception {
        return keep(new HttpBackend(name, HttpBackend.sayName(name), tls));
    }

    private static double tlsErrors(Sluice s, String reason) throws Exception {
        String metrics = Proxies.admin(s, "/metrics").body();
        return Proxies.sample(metrics, "sluice_upstream_tls_handshake_errors_total{cluster=\"app\",reason=\""
                + reason + "\"}");
    }

    @Test
    void sequentialRequestsReuseOneVerifiedTlsConnectionAndSendTheConfiguredSni() throws Exception {
        TestTls tls = TestTls.server(CA.server("app.internal"));
        HttpBackend b = https("a", tls);
        Sluice s = start(http("{ sni: app.internal, ca: \"" + ca() + "\" }", "", b.address()));
        RawHttp c = keep(new RawHttp(Proxies.port(s, "web")));
        for (int i = 0; i < 10; i++) {
            RawHttp.Response r = c.get("/n/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("a GET /n/" + i);
        }
        assertThat(b.accepted()).isEqualTo(1);
        assertThat(tls.handshakes()).isEqualTo(1);
        assertThat(tls.sniNames()).containsExactly("app.internal");
        assertThat(tlsErrors(s, "untrusted")).isZero();
    }

    @Test
    void aServerWithACertificateFromAnotherCaGetsNoRequestAndTheFailureIsCounted() throws Exception {
        TestTls tls = TestTls.server(OTHER_CA.server("app.internal"));
        HttpBackend b = https("a", tls);
        Sluice s = start(http("{ sni: app.internal, ca: \"" + ca() + "\" }", "", b.address()));
        RawHttp.Response r = keep(new RawHttp(Proxies.port(s, "web"))).get("/");
        assertThat(r.status()).isIn(502, 503);
        assertThat(b.requests).isEmpty();
        assertThat(tlsErrors(s, "untrusted")).isEqualTo(1);
        assertThat(s.cluster("app").servers().get(0).connectErrors().sum()).isEqualTo(1);
    }

    @Test
    void aCertificateForAnotherNameIsRefused() throws Exception {
        HttpBackend b = https("a", TestTls.server(CA.server("someone.else")));
        Sluice s = start(http("{ sni: app.internal, ca: \"" + ca() + "\" }", "", b.address()));
        assertThat(keep(new RawHttp(Proxies.port(s, "web"))).get("/").status()).isIn(502, 503);
        assertThat(b.requests).isEmpty();
        assertThat(tlsErrors(s, "name_mismatch")).isEqualTo(1);
    }

    @Test
    void verifyFalseTalksToAnyCertificate() throws Exception {
        HttpBackend b = https("a", TestTls.server(OTHER_CA.server("someone.else")));
        Sluice s = start(http("{ verify: false, ca: \"" + ca() + "\" }", "", b.address()));
        RawHttp.Response r = keep(new RawHttp(Proxies.port(s, "web"))).get("/x");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("a GET /x");
    }

    @Test
    void aClientCertificateIsPresentedToAServerThatRequiresMutualTls() throws Exception {
        TestCertificates.Ca clients = TestCertificates.newCa("Proxy clients CA");
        TestTls tls = TestTls.mutual(CA.server("app.internal"), clients);
        HttpBackend b = https("a", tls);
        Path[] pair = clients.client("sluice-lb").writePem(dir, "client");
        Sluice s = start(http("{ sni: app.internal, ca: \"" + ca() + "\", cert: \"" + pair[0] + "\", key: \""
                + pair[1] + "\" }", "", b.address()));
        RawHttp.Response r = keep(new RawHttp(Proxies.port(s, "web"))).get("/m");
        assertThat(r.status()).isEqualTo(200);
        assertThat(tls.clientCerts()).containsExactly("CN=sluice-lb");
    }

    @Test
    void aTcpListenerRelaysOverTls() throws Exception {
        TestTls tls = TestTls.server(CA.server("echo.internal"));
        TestBackend echo = keep(TestBackend.startTls("echo", TestBackend.echo(), tls));
        Sluice s = start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app }
                clusters:
                  - name: app
                    tls: { sni: echo.internal, ca: "%s" }
                    servers: [ { address: "%s" } ]
                """.formatted(ca(), echo.address()));
        try (Socket c = Proxies.connect(Proxies.port(s, "front"))) {
            Proxies.roundTrip(c, "hello over tls");
            Proxies.roundTrip(c, "and again");
            // The client's FIN reaches the server as the end of its TLS stream; its answer and FIN come back.
            c.getOutputStream().write("last words".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            c.shutdownOutput();
            assertThat(Proxies.readAll(c.getInputStream())).isEqualTo("last words");
        }
        assertThat(tls.handshakes()).isEqualTo(1);
        assertThat(tls.sniNames()).containsExactly("echo.internal");
    }

    @Test
    void aReloadSwitchesAClusterFromPlainToTls() throws Exception {
        HttpBackend plain = keep(new HttpBackend("plain", HttpBackend.sayName("plain")));
        TestTls tls = TestTls.server(CA.server("app.internal"));
        HttpBackend secure = https("secure", tls);
        Sluice s = start(http("", "", plain.address()));
        int port = Proxies.port(s, "web");
        assertThat(keep(new RawHttp(port)).get("/").text()).isEqualTo("plain GET /");

        ReloadResult r = reload(s, http("{ sni: app.internal, ca: \"" + ca() + "\" }", "", secure.address()));
        assertThat(r.applied()).isTrue();
        assertThat(r.changes()).contains("cluster app: tls on for new connections");
        assertThat(keep(new RawHttp(port)).get("/").text()).isEqualTo("secure GET /");
        assertThat(tls.handshakes()).isEqualTo(1);
    }

    @Test
    void aReloadWithAnUnparseableCaIsRejectedAndChangesNothing() throws Exception {
        TestTls tls = TestTls.server(CA.server("app.internal"));
        HttpBackend b = https("a", tls);
        String good = http("{ sni: app.internal, ca: \"" + ca() + "\" }", "", b.address());
        Sluice s = start(good);
        Path junk = Files.writeString(dir.resolve("junk.pem"), "-----BEGIN CERTIFICATE-----\nnope\n");
        ReloadResult r = reload(s, http("{ sni: app.internal, ca: \"" + junk + "\" }",
                "    connect_timeout: 3s\n", b.address()).replace("    connect_timeout: 2s\n", ""));
        assertThat(r.applied()).isFalse();
        assertThat(r.errors().get(0).path()).isEqualTo("clusters[0].tls.ca");
        assertThat(s.cluster("app").config().connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(keep(new RawHttp(Proxies.port(s, "web"))).get("/").status()).isEqualTo(200);
    }

    @Test
    void healthChecksUseTlsAndTakeDownTheServerWhoseCertificateFails() throws Exception {
        HttpBackend good = https("good", TestTls.server(CA.server("app.internal")));
        HttpBackend bad = https("bad", TestTls.server(OTHER_CA.server("app.internal")));
        Sluice s = start(http("{ sni: app.internal, ca: \"" + ca() + "\" }", """
                    health_check: { type: http, path: /health, interval: 500ms, timeout: 500ms, rise: 1, fall: 2 }
                """, good.address(), bad.address()));
        Cluster c = s.cluster("app");
        await().atMost(Duration.ofSeconds(10)).until(() -> !c.server(bad.address()).healthy());
        assertThat(c.server(bad.address()).lastCheck().detail()).startsWith("TLS handshake failed: untrusted");
        await().atMost(Duration.ofSeconds(10)).until(() -> good.requests.stream()
                .anyMatch(r -> r.uri().equals("/health")));
        assertThat(c.server(good.address()).healthy()).isTrue();
        RawHttp client = keep(new RawHttp(Proxies.port(s, "web")));
        for (int i = 0; i < 4; i++) {
            assertThat(client.get("/").text()).isEqualTo("good GET /");
        }
        assertThat(tlsErrors(s, "untrusted")).as("probes are not counted as traffic errors").isZero();
    }

    @Test
    void spliceCannotRelayToATlsCluster() {
        String yaml = """
                runtime: { transport: epoll }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app, splice: true }
                clusters:
                  - name: app
                    tls: { verify: false }
                    servers: [ { address: "127.0.0.1:1" } ]
                """;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.parse(yaml))
                .hasMessageContaining("listeners[0].splice")
                .hasMessageContaining("cluster \"app\" has tls: a spliced relay cannot encrypt");
    }

}
