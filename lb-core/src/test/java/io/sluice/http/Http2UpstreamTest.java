package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 to servers ({@code clusters[].protocol: h2c | h2}), against {@link H2TestServer} and real clients. */
class Http2UpstreamTest {
    private static final TestCertificates.Ca CA = TestCertificates.newCa("Backends CA");

    @TempDir
    Path dir;
    @AutoClose
    final Resources resources = new Resources();

    private <T extends AutoCloseable> T keep(T t) {
        return resources.keep(t);
    }

    private H2TestServer server(String name, Long maxStreams) throws Exception {
        return keep(new H2TestServer(name, maxStreams));
    }

    private Sluice start(String clusterExtra, String... servers) throws Exception {
        StringBuilder list = new StringBuilder();
        for (String s : servers) {
            list.append(list.isEmpty() ? "" : ", ").append("{ address: \"").append(s).append("\" }");
        }
        return keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    algorithm: round_robin
                    protocol: h2c
                %s
                    servers: [ %s ]
                """.formatted(clusterExtra, list)));
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void protocolIsCheckedAgainstTls() throws Exception {
        io.sluice.config.ConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(
                io.sluice.config.ConfigException.class, () -> io.sluice.config.ConfigLoader.parse("""
                        listeners:
                          - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: a }
                        clusters:
                          - name: a
                            protocol: h2
                            servers: [ { address: "127.0.0.1:1" } ]
                          - name: b
                            protocol: h2c
                            tls: { verify: false }
                            servers: [ { address: "127.0.0.1:1" } ]
                          - name: c
                            protocol: h3
                            servers: [ { address: "127.0.0.1:1" } ]
                        """));
        List<String> errors = e.errors().stream().map(Object::toString).toList();
        assertThat(errors).anySatisfy(m -> assertThat(m).contains("clusters[0].protocol (line 5").contains("tls"));
        assertThat(errors).anySatisfy(m -> assertThat(m).contains("clusters[1].protocol (line 8").contains("h2"));
        assertThat(errors).anySatisfy(m -> assertThat(m).contains("clusters[2].protocol"));
        assertThat(io.sluice.config.ConfigLoader.parse("""
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: a }
                clusters:
                  - { name: a, servers: [ { address: "127.0.0.1:1" } ] }
                """).clusters().get(0).protocol()).isEqualTo(io.sluice.config.UpstreamProtocol.HTTP1);
    }

    @Test
    void http11ClientsAreServedOverOneH2cConnection() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        int port = Proxies.port(s, "web");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = get(port, "/get/" + i);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("a GET /get/" + i);
            assertThat(r.headers().map().keySet()).noneMatch(k -> k.startsWith("x-http2"));
        }
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> post = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/post"))
                .POST(HttpRequest.BodyPublishers.ofString("hello")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.body()).isEqualTo("a POST /post 5");
        assertThat(a.connections.get()).isEqualTo(1);
        H2TestServer.Request first = a.requests.get(0);
        assertThat(first.authority()).isEqualTo("127.0.0.1:" + port);
        assertThat(first.scheme()).isEqualTo("http");
        assertThat(first.headers().names()).noneMatch(n -> n.toString().startsWith("x-http2")
                || n.toString().equalsIgnoreCase("connection") || n.toString().equalsIgnoreCase("host"));
    }

    @Test
    void h2ClientStreamsShareFewServerConnections() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        ExternalTool.Run r = h2load.run("", "-n", "400", "-c", "4", "-m", "8",
                "http://127.0.0.1:" + Proxies.port(s, "web") + "/load");
        assertThat(r.output()).as(r.output()).contains("400 succeeded, 0 failed, 0 errored");
        assertThat(a.requests).hasSize(400);
        // Some 32 requests at a time (more while front streams finish), 100 streams allowed per connection.
        assertThat(a.connections.get()).isBetween(1, 2);
    }

    @Test
    void theServersStreamLimitOpensAnotherConnectionUpToThePoolLimit() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        H2TestServer a = server("a", 2L);
        Sluice s = start("    pool: { max_connections_per_loop: 3 }", a.address());
        ExternalTool.Run r = h2load.run("", "-n", "120", "-c", "1", "-m", "10",
                "http://127.0.0.1:" + Proxies.port(s, "web") + "/capped");
        assertThat(r.output()).as(r.output()).contains("120 succeeded, 0 failed, 0 errored");
        assertThat(a.connections.get()).isBetween(2, 3);
    }

    @Test
    void goAwayRefusedStreamsAreSentAgainWhateverTheMethod() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        H2TestServer a = server("a", null);
        H2TestServer b = server("b", null);
        a.goAwayEvery = 20;
        b.goAwayEvery = 30;
        Sluice s = start("", a.address(), b.address());
        Path body = Files.writeString(dir.resolve("body"), "x".repeat(100));
        // -d makes every request a POST: not idempotent, resent only because the server said it did not process it.
        ExternalTool.Run r = h2load.run("", "-n", "300", "-c", "2", "-m", "8",
                "-d", body.toString(), "http://127.0.0.1:" + Proxies.port(s, "web") + "/goaway");
        assertThat(r.output()).as(r.output()).contains("300 succeeded, 0 failed, 0 errored");
        assertThat(r.output()).contains("status codes: 300 2xx");
        assertThat(a.refused.get() + b.refused.get()).isPositive();
        assertThat(a.requests.size() + b.requests.size()).isEqualTo(300);
        assertThat(a.connections.get()).isGreaterThan(1);
    }

    @Test
    void h2OverTlsAgreedByAlpn() throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        H2TestServer a = keep(new H2TestServer("a", null, CA.server("app.internal")));
        Path ca = CA.writePem(dir.resolve("ca.pem"));
        Sluice s = keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    protocol: h2
                    tls: { sni: app.internal, ca: "%s" }
                    servers: [ { address: "%s" } ]
                """.formatted(ca, a.address())));
        int port = Proxies.port(s, "web");
        for (int i = 0; i < 3; i++) {
            ExternalTool.Run r = curl.run("", "-sS", "--http2-prior-knowledge",
                    "http://127.0.0.1:" + port + "/tls/" + i);
            assertThat(r.output()).as(r.output()).isEqualTo("a GET /tls/" + i);
        }
        assertThat(get(port, "/tls/h1").body()).isEqualTo("a GET /tls/h1");
        assertThat(a.connections.get()).isEqualTo(1);
        assertThat(a.sniNames).containsExactly("app.internal");
        assertThat(a.requests.get(0).scheme()).isEqualTo("https");
    }

    @Test
    void aServerWithoutH2IsAConnectFailure() throws Exception {
        HttpBackend plain = keep(new HttpBackend("h1", HttpBackend.sayName("h1"),
                io.sluice.testing.TestTls.server(CA.server("app.internal"))));
        Path ca = CA.writePem(dir.resolve("ca.pem"));
        Sluice s = keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    protocol: h2
                    connect_retries: 0
                    tls: { sni: app.internal, ca: "%s" }
                    servers: [ { address: "%s" } ]
                """.formatted(ca, plain.address())));
        assertThat(get(Proxies.port(s, "web"), "/x").statusCode()).isEqualTo(502);
        assertThat(plain.requests).isEmpty();
    }

    @Test
    void aClientsResetReachesTheServerAsReset() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        try (RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/hold", ":authority", "x");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            c.rst(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.resetsReceived.contains(8L)); // CANCEL
        }
    }

    @Test
    void aServersResetReachesAnH2ClientWithItsCode() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        try (RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/reset/0", ":authority", "x");
            RawH2.Frame f = c.await(RawH2.RST_STREAM, 1);
            assertThat(f).isNotNull();
            assertThat(f.errorCode()).isZero(); // NO_ERROR stays NO_ERROR (haproxy#1219)
            c.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/reset/2", ":authority", "x");
            assertThat(c.await(RawH2.RST_STREAM, 3).errorCode()).isEqualTo(2L);
        }
    }

    @Test
    void aServersResetTruncatesAnHttp11Response() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        String raw = rawHttp11(Proxies.port(s, "web"), "/reset/2");
        // The head went out; the body (what of it came before the reset) ends without its last chunk.
        assertThat(raw).startsWith("HTTP/1.1 200").doesNotContain("\r\n0\r\n");
    }

    @Test
    void trailersReachHttp11ClientsAsChunkedTrailersAndH2ClientsAsTrailers() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        int port = Proxies.port(s, "web");
        String raw = rawHttp11(port, "/trailers");
        assertThat(raw).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked")
                .contains("\r\n0\r\n").contains("grpc-status: 0").contains("x-trailer: yes");
        try (RawH2 c = new RawH2(port)) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/trailers", ":authority", "x");
            assertThat(c.await(RawH2.HEADERS, 1)).isNotNull();
            RawH2.Frame data = c.await(RawH2.DATA, 1);
            assertThat(new String(data.payload(), StandardCharsets.UTF_8)).isEqualTo("ok");
            RawH2.Frame trailers = c.await(RawH2.HEADERS, 1);
            assertThat(trailers.flags() & RawH2.END_STREAM).isEqualTo(RawH2.END_STREAM);
        }
    }

    @Test
    void anInterimResponseReachesHttp11ClientsBeforeTheFinalOne() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        String raw = rawHttp11(Proxies.port(s, "web"), "/interim");
        assertThat(raw).startsWith("HTTP/1.1 103").containsIgnoringCase("link: </style.css>; rel=preload")
                .contains("HTTP/1.1 200").contains("after 103");
        assertThat(raw.indexOf("HTTP/1.1 200")).isGreaterThan(raw.indexOf("HTTP/1.1 103"));
    }

    @Test
    void aMalformedStatusFromTheServerIsA502() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        assertThat(rawHttp11(Proxies.port(s, "web"), "/bad-status")).startsWith("HTTP/1.1 502");
    }

    /** Trailers over the server's SETTINGS_MAX_HEADER_LIST_SIZE: Netty cannot send them, the client gets a 502 at once. */
    @Test
    void requestTrailersTheServerCannotTakeAreA502NotAHang() throws Exception {
        H2TestServer a = server("a", null);
        a.maxHeaderListSize = 1024;
        Sluice s = start("", a.address());
        // response_timeout is longer than statusLine's read timeout: without the fix the read times out.
        assertThat(statusLine(Proxies.port(s, "web"), "POST /upload HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-big: " + "b".repeat(4000) + "\r\n\r\n"))
                .isEqualTo("HTTP/1.1 502");
        assertThat(s.cluster("app").servers().get(0).errors()).as("not the server's failure").isZero();
    }

    /** A request head over the server's header list size never leaves: a 502, not charged to the server. */
    @Test
    void aRequestHeadTheServerCannotTakeIsALocalFailure() throws Exception {
        H2TestServer a = server("a", null);
        a.maxHeaderListSize = 1024;
        Sluice s = start("", a.address());
        assertThat(get(Proxies.port(s, "web"), "/ok").statusCode()).isEqualTo(200); // SETTINGS known
        assertThat(statusLine(Proxies.port(s, "web"), "GET /big-head HTTP/1.1\r\nHost: x\r\nx-big: "
                + "b".repeat(4000) + "\r\n\r\n")).startsWith("HTTP/1.1 50");
        assertThat(s.cluster("app").servers().get(0).errors()).as("not the server's failure").isZero();
    }

    @Test
    void aClientsOwnXHttp2HeadersReachTheServer() throws Exception {
        H2TestServer a = server("a", null);
        Sluice s = start("", a.address());
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        assertThat(c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Proxies.port(s, "web") + "/x"))
                .header("x-http2-foo", "1").header("x-http2-stream-id", "7").build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        {
            io.netty.handler.codec.http2.Http2Headers h = a.requests.get(0).headers();
            assertThat(h.get("x-http2-foo")).hasToString("1");
            assertThat(h.get("x-http2-stream-id")).hasToString("7");
        }
    }

    /** Sends {@code request} as it is on a fresh connection: the first 12 bytes of the answer ("HTTP/1.1 NNN"). */
    private static String statusLine(int port, String request) throws Exception {
        try (Socket sock = new Socket("127.0.0.1", port)) {
            sock.setSoTimeout(10_000);
            sock.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return new String(sock.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        }
    }

    /** One HTTP/1.1 request on a fresh connection; everything the proxy sends until it closes (Connection: close). */
    private static String rawHttp11(int port, String path) throws Exception {
        try (Socket sock = new Socket("127.0.0.1", port)) {
            sock.setSoTimeout(20_000);
            OutputStream out = sock.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nTE: trailers\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = sock.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
