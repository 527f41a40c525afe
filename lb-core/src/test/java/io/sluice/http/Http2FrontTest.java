package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Cleartext HTTP/2 on an HTTP listener, driven by curl and h2load, to HTTP/1.1 backends. */
class Http2FrontTest {

    static String config(String a, String b, String extra) {
        return """
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                %s
                clusters:
                  - { name: app, algorithm: round_robin, servers: [ { address: "%s" }, { address: "%s" } ] }
                """.formatted(extra, a, b);
    }

    @Test
    void curlPriorKnowledgeIsServedAndCountedAsHttp2() throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            int port = Proxies.port(s, "web");
            for (int i = 0; i < 4; i++) {
                ExternalTool.Run r = curl.run("", "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}",
                        "http://127.0.0.1:" + port + "/s/" + i);
                assertThat(r.code()).as(r.output()).isZero();
                assertThat(r.output()).matches("(?s)[ab] GET /s/" + i + "\n2 200");
            }
            assertThat(a.requests.size() + b.requests.size()).isEqualTo(4);
            // Connection-specific headers never reach the servers, and the request is HTTP/1.1 with a Host.
            HttpBackend.Request first = a.requests.get(0);
            assertThat(first.version()).isEqualTo("HTTP/1.1");
            assertThat(first.header("host")).isEqualTo("127.0.0.1:" + port);
            assertThat(first.headers().keySet()).noneMatch(k -> k.startsWith("x-http2"));

            ExternalTool.Run one = curl.run("", "-sS", "--http2-prior-knowledge", "-d", "hello",
                    "http://127.0.0.1:" + port + "/post");
            assertThat(one.output()).matches("[ab] POST /post");

            // Upgrade: h2c: 101, then HTTP/2, the upgrading request answered on stream 1; the upgrade and its
            // settings are about this hop and never reach a server.
            ExternalTool.Run upgrade = curl.run("", "-sS", "--http2", "-w", "\n%{http_version} %{http_code}",
                    "http://127.0.0.1:" + port + "/up");
            assertThat(upgrade.output()).matches("(?s)[ab] GET /up\n2 200");
            HttpBackend.Request up = java.util.stream.Stream.concat(a.requests.stream(), b.requests.stream())
                    .filter(q -> q.uri().equals("/up")).findFirst().orElseThrow();
            assertThat(up.header("upgrade")).isNull();
            assertThat(up.header("http2-settings")).isNull();
            assertThat(up.header("host")).isEqualTo("127.0.0.1:" + port);

            ExternalTool.Run h1 = curl.run("", "-sS", "--http1.1", "http://127.0.0.1:" + port + "/one");
            assertThat(h1.output()).matches("[ab] GET /one");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String m = Proxies.admin(s, "/metrics").body();
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                        + "protocol=\"http2\",route=\"default\"}")).isEqualTo(6);
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                        + "protocol=\"http1\",route=\"default\"}")).isEqualTo(1);
            });
        }
    }

    /** Trailers of an h2 request (a last HEADERS frame) reach an HTTP/1.1 server as the trailers of a chunked body. */
    @Test
    void requestTrailersReachAnHttp1ServerInAChunkedBody() throws Exception {
        java.util.concurrent.CompletableFuture<String> received = new java.util.concurrent.CompletableFuture<>();
        HttpBackend.Handler handler = (req, out, sock) -> {
            String body = new String(req.readBody(), StandardCharsets.US_ASCII);
            String te = req.header("transfer-encoding");
            java.util.List<String> trailers = req.body() instanceof HttpBackend.ChunkedInput ci
                    ? ci.trailers : java.util.List.of();
            received.complete(te + "|" + body + "|" + trailers);
            HttpBackend.respond(out, 200, "text/plain", new byte[0]);
        };
        try (HttpBackend a = new HttpBackend("a", handler);
             HttpBackend b = new HttpBackend("b", handler);
             Sluice s = Proxies.start(config(a.address(), b.address(), ""));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/t", ":authority", "a");
            c.frame(RawH2.DATA, 0, 1, "hello".getBytes(StandardCharsets.US_ASCII));
            c.headers(1, true, "x-checksum", "abc");
            RawH2.Frame response = c.await(RawH2.HEADERS, 1);
            assertThat(response).isNotNull();
            assertThat(received.get(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isEqualTo("chunked|hello|[x-checksum: abc]");
        }
    }

    @Test
    void h2loadRequestsAllSucceed() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            int port = Proxies.port(s, "web");
            ExternalTool.Run r = h2load.run("", "-n", "400", "-c", "4", "-m", "16",
                    "http://127.0.0.1:" + port + "/load");
            assertThat(r.code()).as(r.output()).isZero();
            assertThat(r.output()).contains("400 succeeded, 0 failed, 0 errored");
            assertThat(r.output()).contains("status codes: 400 2xx");
            assertThat(a.requests).isNotEmpty();
            assertThat(b.requests).isNotEmpty();
        }
    }

    /** Per-request balancing: the streams of one client connection go to both servers. */
    @Test
    void streamsOfOneConnectionSpreadOverServers() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            ExternalTool.Run r = h2load.run("", "-n", "40", "-c", "1", "-m", "20",
                    "http://127.0.0.1:" + Proxies.port(s, "web") + "/spread");
            assertThat(r.output()).contains("40 succeeded, 0 failed, 0 errored");
            assertThat(a.requests).hasSizeGreaterThanOrEqualTo(10);
            assertThat(b.requests).hasSizeGreaterThanOrEqualTo(10);
        }
    }

    /**
     * A request with a body that asks for h2c stays HTTP/1.1 (no 101, nothing buffered to replay it): it is
     * served there, and the upgrade is not forwarded.
     */
    @Test
    void upgradeWithBodyIsServedInHttp1() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""));
             Socket c = new Socket("127.0.0.1", Proxies.port(s, "web"))) {
            c.setSoTimeout(10_000);
            c.getOutputStream().write(("POST /body HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\nContent-Length: 5\r\n\r\nhello")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = new String(c.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 200");
            await().atMost(Duration.ofSeconds(5)).until(() -> a.requests.size() + b.requests.size() == 1);
            HttpBackend.Request served = (a.requests.isEmpty() ? b : a).requests.get(0);
            assertThat(served.uri()).isEqualTo("/body");
            assertThat(served.header("upgrade")).isNull();
        }
    }

    /** http.h2c: false: no upgrade, and a prior-knowledge client is refused in HTTP/1.1, not served. */
    @Test
    void h2cOffRefusesPriorKnowledgeAndServesUpgradeInHttp1() throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), "    http: { h2c: false }"))) {
            int port = Proxies.port(s, "web");
            ExternalTool.Run upgrade = curl.run("", "-sS", "--http2", "-w", "\n%{http_version} %{http_code}",
                    "http://127.0.0.1:" + port + "/up");
            assertThat(upgrade.output()).matches("(?s)[ab] GET /up\n1.1 200");
            try (Socket c = new Socket("127.0.0.1", port)) {
                c.setSoTimeout(10_000);
                c.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(c.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(answer).startsWith("HTTP/1.1 505 ");
            }
            assertThat(a.requests.size() + b.requests.size()).isEqualTo(1);
        }
    }

    /**
     * RFC 9113 8.1: a response complete while its request's body is still coming ends the stream, and a
     * RST_STREAM NO_ERROR (after the response) tells the client to stop sending the rest.
     */
    @Test
    void aResponseBeforeTheWholeRequestIsFollowedByResetNoError() throws Exception {
        HttpBackend.Handler early = (req, out, socket) ->
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nearly");
        try (HttpBackend a = new HttpBackend("a", early);
             HttpBackend b = new HttpBackend("b", early);
             Sluice s = Proxies.start(config(a.address(), b.address(), ""));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/early", ":authority", "a");
            c.sendData(1, new byte[100], false);
            RawH2.Frame head = c.await(RawH2.HEADERS, 1);
            assertThat(head).isNotNull();
            RawH2.Frame data = c.await(RawH2.DATA, 1);
            assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("early");
            assertThat(data.flags() & RawH2.END_STREAM).isEqualTo(RawH2.END_STREAM);
            RawH2.Frame rst = c.await(RawH2.RST_STREAM, 1);
            assertThat(rst).isNotNull();
            assertThat(rst.errorCode()).isZero();
        }
    }
}
