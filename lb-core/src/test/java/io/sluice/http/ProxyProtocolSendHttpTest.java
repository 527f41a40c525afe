package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Haproxy;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code send_proxy_protocol} on HTTP listeners, checked by a real HAProxy that {@code accept-proxy}s and answers
 * with the client it was told and how many connections it has open: each client connection gets server
 * connections of its own, reused for its later requests and never for another client's.
 */
class ProxyProtocolSendHttpTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    /** {@code proto h2} on the bind: HAProxy speaks cleartext HTTP/2 there, for an h2c cluster. */
    private Haproxy reportingHaproxy(String cluster) throws Exception {
        return resources.keep(Haproxy.start(dir, "http", """
                frontend report
                    bind 127.0.0.1:%%PORT%% accept-proxy%s
                    http-request return status 200 content-type text/plain lf-string "src=%%[src]:%%[src_port] conns=%%[fe_conn]"
                """.formatted(cluster.equals("h2c") ? " proto h2" : "")));
    }

    /** One worker loop: the shared pool would hand the first client's idle connection to the second. */
    private static final String CONFIG = """
            runtime: { worker_threads: 1 }
            admin: { enabled: false }
            listeners:
              - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
            clusters:
              - name: app
                protocol: %s
                send_proxy_protocol: %s
                pool: { max_idle_time: 5m }
                servers: [ { address: "127.0.0.1:%d" } ]
            """;

    private Sluice sluice(String version, String cluster, int server) throws Exception {
        return resources.keep(Proxies.start(CONFIG.formatted(cluster, version, server)));
    }

    private static String seen(RawHttp client) throws Exception {
        RawHttp.Response r = client.get("/");
        assertThat(r.status()).isEqualTo(200);
        return r.text();
    }

    private static String self(RawHttp client) {
        return "src=" + client.socket.getLocalAddress().getHostAddress() + ":" + client.socket.getLocalPort();
    }

    @ParameterizedTest
    @CsvSource({"v1, http1", "v2, http1", "v1, h2c", "v2, h2c"})
    void eachClientConnectionHasServerConnectionsOfItsOwn(String version, String cluster) throws Exception {
        Haproxy haproxy = reportingHaproxy(cluster);
        Sluice s = sluice(version, cluster, haproxy.port());
        int port = Proxies.port(s, "web");
        try (RawHttp a = new RawHttp("127.0.0.1", port); RawHttp b = new RawHttp("127.0.0.2", port)) {
            assertThat(seen(a)).as(haproxy.output()).isEqualTo(self(a) + " conns=1");
            assertThat(seen(a)).isEqualTo(self(a) + " conns=1"); // kept alive and reused by the same client
            // The second client's request opens a connection of its own beside the first's, still open. Once in CI
            // HAProxy counted a third connection at this request (not reproduced in 72 local runs): the count must
            // settle at the two, on b's own connection; a connection that stayed would fail the checks below.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(seen(b)).isEqualTo(self(b) + " conns=2"));
            assertThat(seen(a)).isEqualTo(self(a) + " conns=2");
            assertThat(seen(b)).isEqualTo(self(b) + " conns=2");
            a.close();
            // The first client gone, its server connection closes rather than waiting idle for someone else.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(seen(b)).isEqualTo(self(b) + " conns=1"));
        }
    }

    @ParameterizedTest
    @CsvSource({"v1, http1", "v2, http1", "v2, h2c"})
    void http2ClientsToo(String version, String cluster) throws Exception {
        Haproxy haproxy = reportingHaproxy(cluster);
        Sluice s = sluice(version, cluster, haproxy.port());
        int port = Proxies.port(s, "web");
        // The JDK client upgrades to h2c and sends its later requests as streams of the same connection.
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build();
        try (RawHttp a = new RawHttp("127.0.0.1", port)) {
            assertThat(seen(a)).as(haproxy.output()).isEqualTo(self(a) + " conns=1");
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = h2.send(get, HttpResponse.BodyHandlers.ofString());
                assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
                seen.add(r.body());
            }
            // One server connection for the HTTP/2 client's streams, beside (not shared with) the first client's.
            assertThat(seen.get(0)).matches("src=127\\.0\\.0\\.1:\\d+ conns=2").isNotEqualTo(self(a) + " conns=2");
            assertThat(seen).containsOnly(seen.get(0));
            assertThat(seen(a)).isEqualTo(self(a) + " conns=2");
        }
    }

    /**
     * A reload that removes the server closes the idle private connections of a client that stays connected
     * (not only the shared pools'), so they neither keep the server's lease nor wait for max_idle_time. HAProxy
     * tells how many connections Sluice holds through a second, plain frontend.
     */
    @ParameterizedTest
    @CsvSource({"http1", "h2c"})
    void removedServerClosesThePrivateConnectionsOfAClientStillConnected(String cluster) throws Exception {
        int probe = Proxies.freePort();
        Haproxy haproxy = resources.keep(Haproxy.start(dir, "http", """
                frontend report
                    bind 127.0.0.1:%%PORT%% accept-proxy%s
                    http-request return status 200 content-type text/plain lf-string "conns=%%[fe_conn]"
                frontend probe
                    bind 127.0.0.1:%d
                    http-request return status 200 content-type text/plain lf-string "conns=%%[fe_conn(report)]"
                """.formatted(cluster.equals("h2c") ? " proto h2" : "", probe)));
        Path file = dir.resolve("sluice.yaml");
        Sluice s = resources.keep(Proxies.startFromFile(file, CONFIG.formatted(cluster, "v2", haproxy.port())));
        try (RawHttp a = new RawHttp("127.0.0.1", Proxies.port(s, "web"))) {
            assertThat(seen(a)).as(haproxy.output()).isEqualTo("conns=1");
            assertThat(probe(probe)).isEqualTo("conns=1");
            Server server = s.cluster("app").servers().get(0);
            HttpListener l = (HttpListener) s.listener("web");
            ServerPools pools = l.routes().all().get(0).upstream().pools(server);
            // The private connection goes back to its pool just after the response reached the client.
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(pools.idle()).isEqualTo(1);
                assertThat(server.pooledConnections()).isEqualTo(1);
            });

            // The server is replaced by one nothing listens on: only its removal matters here.
            Proxies.reload(s, file, CONFIG.formatted(cluster, "v2", Proxies.freePort()));

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                assertThat(probe(probe)).isEqualTo("conns=0");
                assertThat(server.pooledConnections()).isZero();
                assertThat(server.activeConnections()).isZero();
                assertThat(pools.idle()).isZero();
                assertThat(pools.inUse()).isZero();
            });
        }
    }

    private static String probe(int port) throws Exception {
        try (RawHttp p = new RawHttp("127.0.0.1", port)) {
            return seen(p);
        }
    }
}
