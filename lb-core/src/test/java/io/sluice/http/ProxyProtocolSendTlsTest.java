package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Haproxy;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code send_proxy_protocol} on a cluster with {@code tls}: the header goes first on the connection, before the
 * ClientHello, as a real HAProxy with {@code accept-proxy ssl} reads it. HAProxy answers with the client the
 * header named and whether the request came over TLS; Sluice connects from 127.0.0.1, the clients from
 * 127.0.0.2, so only the header can tell HAProxy the client's address.
 */
class ProxyProtocolSendTlsTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("proxy-tls-ca");

    /** {@code alpn}: what HAProxy offers (h2 for a cluster with {@code protocol: h2}). */
    private Haproxy tlsHaproxy(String alpn) throws Exception {
        TestCertificates.Issued cert = ca.server("127.0.0.1");
        Path pem = dir.resolve("server.pem");
        Files.writeString(pem, cert.chainPem() + cert.keyPem());
        return resources.keep(Haproxy.start(dir, "http", """
                frontend report
                    bind 127.0.0.1:%%PORT%% accept-proxy ssl crt %s alpn %s
                    http-request return status 200 content-type text/plain lf-string "src=%%[src] tls=%%[ssl_fc] alpn=%%[ssl_fc_alpn] conns=%%[fe_conn]"
                """.formatted(pem, alpn)));
    }

    private Sluice sluice(String protocol, String clusterProtocol, String version, int server) throws Exception {
        return sluice(protocol, clusterProtocol, version, "", server);
    }

    private Sluice sluice(String protocol, String clusterProtocol, String version, String clusterOptions, int server)
            throws Exception {
        Path caPem = ca.writePem(dir.resolve("ca.pem"));
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", protocol: %s, cluster: app }
                clusters:
                  - name: app
                    protocol: %s
                    send_proxy_protocol: %s
                    tls: { ca: "%s" }%s
                    servers: [ { address: "127.0.0.1:%d" } ]
                """.formatted(protocol, clusterProtocol, version, caPem, clusterOptions, server)));
    }

    @Test
    void v2HealthChecksSendALocalHeaderBeforeTheClientHello() throws Exception {
        // accept-proxy refuses a connection without a header, and ssl one without TLS: the check passes with both.
        Haproxy haproxy = tlsHaproxy("http/1.1");
        Sluice s = sluice("http", "http1", "v2", "\n    health_check: { type: http, path: /, interval: 500ms,"
                + " timeout: 500ms, rise: 1, fall: 1, initial_state: down }", haproxy.port());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(s.cluster("app").servers().get(0).state()).as(haproxy.output()).isEqualTo("up"));
    }

    @ParameterizedTest
    @CsvSource({"v1", "v2"})
    void aTcpRelaySendsTheHeaderBeforeTheClientHello(String version) throws Exception {
        Haproxy haproxy = tlsHaproxy("http/1.1");
        Sluice s = sluice("tcp", "http1", version, haproxy.port());
        // The relay carries the client's bytes in the clear to Sluice, which encrypts them towards HAProxy.
        String answer = Proxies.sendFrom("127.0.0.2", Proxies.port(s, "front"),
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(answer).as(haproxy.output()).startsWith("HTTP/1.1 200").endsWith("src=127.0.0.2 tls=1 alpn= conns=1");
    }

    @ParameterizedTest
    @CsvSource({"v1, http1, http/1.1, ''", "v2, http1, http/1.1, ''", "v2, h2, 'h2,http/1.1', h2"})
    void anHttpListenersServerConnectionsSendTheHeaderBeforeTheClientHello(String version, String clusterProtocol,
                                                                          String offered, String agreed)
            throws Exception {
        Haproxy haproxy = tlsHaproxy(offered);
        Sluice s = sluice("http", clusterProtocol, version, haproxy.port());
        try (RawHttp client = new RawHttp("127.0.0.2", Proxies.port(s, "front"))) {
            RawHttp.Response r = client.get("/");
            assertThat(r.status()).as(haproxy.output()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("src=127.0.0.2 tls=1 alpn=" + agreed + " conns=1");
            // The connection is kept: the second request goes over it (still one connection at HAProxy), and a
            // second header on it would be a bad request there.
            assertThat(client.get("/").text()).isEqualTo("src=127.0.0.2 tls=1 alpn=" + agreed + " conns=1");
        }
    }
}
