package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP proxy's core behaviour against real backends, through real sockets. */
class HttpProxyTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    HttpBackend backend(String name, HttpBackend.Handler h) throws IOException {
        HttpBackend b = new HttpBackend(name, h);
        resources.add(b);
        return b;
    }

    int proxy(String http, String... servers) throws Exception {
        StringBuilder sb = new StringBuilder("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { %s }
                clusters:
                  - name: app
                    connect_timeout: 2s
                    servers:
                """.formatted(http));
        for (String s : servers) {
            sb.append("      - { address: \"").append(s).append("\" }\n");
        }
        Sluice s = Proxies.start(sb.toString());
        resources.add(s);
        return Proxies.port(s, "web");
    }

    RawHttp client(int port) throws IOException {
        RawHttp c = new RawHttp(port);
        resources.add(c);
        return c;
    }

    @Test
    void sequentialRequestsOnOneClientConnectionReuseOneBackendConnection() throws Exception {
        HttpBackend a = backend("a", HttpBackend.sayName("a"));
        RawHttp c = client(proxy("", a.address()));
        for (int i = 0; i < 20; i++) {
            RawHttp.Response r = c.get("/n/" + i);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("a GET /n/" + i);
        }
        assertThat(a.accepted()).isEqualTo(1);
        assertThat(a.requests).hasSize(20);
    }

    /** A host with quotes cannot end Forwarded's quoted host and add an element naming another client. */
    @Test
    void aHostCannotAddAForwardedElement() throws Exception {
        HttpBackend a = backend("a", HttpBackend.sayName("a"));
        RawHttp c = client(proxy("forwarded: true", a.address()));
        RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: a\",for=6.6.6.6;x=\"\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(a.last().header("forwarded"))
                .isEqualTo("for=127.0.0.1;host=\"a\\\",for=6.6.6.6;x=\\\"\";proto=http");
    }

    @Test
    void forwardedHeadersAddedAndHopByHopHeadersRemoved() throws Exception {
        HttpBackend a = backend("a", HttpBackend.sayName("a"));
        RawHttp c = client(proxy("forwarded: true", a.address()));
        RawHttp.Response r = c.send("""
                GET /h?q=1 HTTP/1.1\r
                Host: shop.example.com:8080\r
                X-Forwarded-For: 10.0.0.1\r
                Connection: keep-alive, X-Secret\r
                X-Secret: s\r
                Keep-Alive: timeout=5\r
                Proxy-Connection: keep-alive\r
                TE: trailers\r
                Upgrade: h2c\r
                X-Keep: k\r
                \r
                """).read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("via")).isEqualTo("1.1 sluice");
        HttpBackend.Request seen = a.last();
        assertThat(seen.uri()).isEqualTo("/h?q=1");
        // The client is no trusted proxy (http.trusted_proxies is empty by default): its own X-Forwarded-For is replaced.
        assertThat(seen.header("x-forwarded-for")).isEqualTo("127.0.0.1");
        assertThat(seen.header("x-forwarded-proto")).isEqualTo("http");
        assertThat(seen.header("x-forwarded-host")).isEqualTo("shop.example.com:8080");
        assertThat(seen.header("forwarded")).isEqualTo("for=127.0.0.1;host=\"shop.example.com:8080\";proto=http");
        assertThat(seen.header("via")).isEqualTo("1.1 sluice");
        assertThat(seen.header("x-request-id")).matches("[0-9a-f]{32}");
        assertThat(seen.header("x-keep")).isEqualTo("k");
        assertThat(seen.headers()).doesNotContainKeys("x-secret", "keep-alive", "proxy-connection", "te", "upgrade");
        // Connection toward the server is managed by the proxy: persistent by default on HTTP/1.1.
        assertThat(seen.header("connection")).isNull();

        c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: given-1\r\n\r\n").read();
        assertThat(a.last().header("x-request-id")).isEqualTo("given-1");
        assertThat(a.last().all("x-forwarded-for")).containsExactly("127.0.0.1");
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        HttpBackend a = backend("a", HttpBackend.sayName("a"));
        RawHttp c = client(proxy("", a.address()));
        c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(c.read().text()).isEqualTo("a GET /1");
        assertThat(c.read().text()).isEqualTo("a POST /2");
        assertThat(c.read().text()).isEqualTo("a GET /3");
    }

    @Test
    void connectionCloseAndHttp10ClientsGetTheirConnectionClosedAfterTheResponse() throws Exception {
        HttpBackend a = backend("a", HttpBackend.sayName("a"));
        int port = proxy("", a.address());
        RawHttp c = client(port);
        RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("connection")).isEqualTo("close");
        assertThat(c.closedByPeer()).isTrue();

        RawHttp c10 = client(port);
        RawHttp.Response r10 = c10.send("GET /y HTTP/1.0\r\n\r\n").read();
        assertThat(r10.text()).isEqualTo("a GET /y");
        assertThat(a.last().version()).isEqualTo("HTTP/1.1");
        assertThat(a.last().header("host")).isEqualTo(a.address());
        assertThat(c10.closedByPeer()).isTrue();

        RawHttp keep10 = client(port);
        RawHttp.Response k1 = keep10.send("GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read();
        assertThat(k1.header("connection")).isEqualTo("keep-alive");
        assertThat(keep10.send("GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").read().text())
                .isEqualTo("a GET /k2");
        // Backend connections stay persistent whatever the clients did (one event loop here: one pool).
        assertThat(a.accepted()).isEqualTo(1);
    }

    @Test
    void chunkedResponseToHttp10ClientIsSentRawAndEndedByClose() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response r = c.send("GET / HTTP/1.0\r\n\r\n").read();
        assertThat(r.header("transfer-encoding")).isNull();
        assertThat(r.text()).isEqualTo("hello world");
    }

    @Test
    void headResponseHasNoBodyAndTheConnectionStaysUsable() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            String head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            out.write((req.method().equals("HEAD") ? head : head + "2\r\nok\r\n0\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response h = c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n").read(true);
        assertThat(h.status()).isEqualTo(200);
        assertThat(c.get("/").text()).isEqualTo("ok");
    }

    @Test
    void noAvailableServerAnswers503() throws Exception {
        RawHttp c = client(proxy("", "unresolvable.invalid:80"));
        RawHttp.Response r = c.get("/");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.text()).contains("no server available");
        // The request had no body, so the connection stays open for the next one.
        assertThat(c.get("/").status()).isEqualTo(503);
    }

    @Test
    void refusedConnectAnswers502() throws Exception {
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0)) {
            closedPort = ss.getLocalPort();
        }
        RawHttp c = client(proxy("", "127.0.0.1:" + closedPort));
        RawHttp.Response r = c.get("/");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.text()).contains("could not connect");
        // The answer came after the connect failed, asynchronously: the connection must still serve the next one.
        assertThat(c.get("/").status()).isEqualTo(502);
    }

    @Test
    void connectFailureIsRetriedOnAnotherServer() throws Exception {
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0)) {
            closedPort = ss.getLocalPort();
        }
        HttpBackend b = backend("b", HttpBackend.sayName("b"));
        RawHttp c = client(proxy("", "127.0.0.1:" + closedPort, b.address()));
        for (int i = 0; i < 4; i++) {
            assertThat(c.get("/").text()).isEqualTo("b GET /");
        }
    }

    @Test
    void serverThatClosesBeforeRespondingGives502() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> s.close());
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response r = c.get("/");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.text()).contains("closed the connection before responding");
    }

    @Test
    void slowServerGives504() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        resources.add(never::countDown);
        HttpBackend a = backend("a", (req, out, s) -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        RawHttp c = client(proxy("response_timeout: 200ms", a.address()));
        RawHttp.Response r = c.get("/");
        assertThat(r.status()).isEqualTo(504);
        assertThat(r.text()).contains("did not respond in time");
    }

    @Test
    void serverDyingMidResponseBreaksOnlyThatResponse() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.setSoLinger(true, 0);
            s.close();
        });
        HttpBackend b = backend("b", HttpBackend.sayName("b"));
        int port = proxy("", a.address(), b.address());
        RawHttp c = client(port);
        // The client sees a response that ends early: the connection closes before Content-Length bytes came.
        c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThatThrownBy(c::read).isInstanceOf(IOException.class).hasMessageContaining("cut short");
        RawHttp c2 = client(port);
        RawHttp.Response r = c2.get("/again");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("b GET /again");
    }

    @Test
    void serverClosingAnIdlePooledConnectionIsNeverUsedForTheNextRequest() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            req.readBody();
            HttpBackend.respond(out, 200, "text/plain", "once".getBytes(StandardCharsets.UTF_8));
            s.close();
        });
        RawHttp c = client(proxy("", a.address()));
        assertThat(c.get("/1").text()).isEqualTo("once");
        // Wait until the server has closed the first connection; the pool must notice and open a new one.
        await().atMost(Duration.ofSeconds(10)).until(() -> a.accepted() == 1);
        for (int i = 2; i <= 5; i++) {
            RawHttp.Response r = c.get("/" + i);
            assertThat(r.status()).isEqualTo(200);
        }
        assertThat(a.accepted()).isEqualTo(5);
    }

    @Test
    void uploadWithContentLengthAndChunkedReachesTheServerIntact() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            byte[] body = req.readBody();
            HttpBackend.respond(out, 200, "text/plain", (body.length + ":" + new String(body, StandardCharsets.UTF_8))
                    .getBytes(StandardCharsets.UTF_8));
        });
        RawHttp c = client(proxy("", a.address()));
        c.send("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(c.read().text()).isEqualTo("5:hello");
        c.send("POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assertThat(c.read().text()).isEqualTo("5:abcde");
        assertThat(a.last().header("transfer-encoding")).isEqualTo("chunked");
    }

    @Test
    void expectContinueIsRelayedSoTheClientSendsItsBodyOnlyWhenAsked() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            if ("100-continue".equals(req.header("expect"))) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            byte[] body = req.readBody();
            HttpBackend.respond(out, 200, "text/plain", body);
        });
        RawHttp c = client(proxy("", a.address()));
        c.send("PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(100);
        c.send("body");
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("body");
        assertThat(c.get("/next").status()).isEqualTo(200);
    }

    @Test
    void longPipelinedBurstAnsweredLocallyIsServedInOrderWithoutRecursion() throws Exception {
        RawHttp c = client(proxy("", "unresolvable.invalid:80"));
        StringBuilder burst = new StringBuilder();
        int n = 3000;
        for (int i = 0; i < n; i++) {
            burst.append("GET /").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
                c.send(burst.toString());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        for (int i = 0; i < n; i++) {
            assertThat(c.read().status()).isEqualTo(503);
        }
        writer.join();
        assertThat(c.get("/last").status()).isEqualTo(503);
    }

    @Test
    void responseHopByHopHeadersAreRemovedAndServerConnectionCloseIsHonoured() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            out.write(("HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                    + "X-End: 2\r\nContent-Length: 2\r\n\r\nok").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.close();
        });
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response r = c.get("/");
        assertThat(r.text()).isEqualTo("ok");
        assertThat(r.headers()).doesNotContainKeys("x-hop", "keep-alive", "connection");
        assertThat(r.header("x-end")).isEqualTo("2");
        // The client's connection stays open; the server's is not reused.
        assertThat(c.get("/").text()).isEqualTo("ok");
        assertThat(a.accepted()).isEqualTo(2);
    }

    @Test
    void closeDelimitedResponseReachesAnHttp11ClientChunkedOnAConnectionThatStaysOpen() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.close();
        });
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response r = c.get("/");
        assertThat(r.header("transfer-encoding")).isEqualTo("chunked");
        assertThat(r.text()).isEqualTo("until close");
        assertThat(c.get("/").text()).isEqualTo("until close");
    }

    @Test
    void ambiguousResponseFromTheServerIs502() throws Exception {
        HttpBackend a = backend("a", (req, out, s) -> {
            out.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
        });
        RawHttp c = client(proxy("", a.address()));
        RawHttp.Response r = c.get("/");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.text()).contains("invalid response");
    }
}
