package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/1.1 front without channels ({@code runtime.http_front: auto}, io_uring's default, {@link UringHttpConnection}):
 * plain requests served on it, every other request handed to the channel path with the bytes read so far, first
 * or after plain ones on the same connection, and the connection's own life (close, half-close, reset, timeouts,
 * idle buffers, drain).
 */
class RawFrontTest {
    private static final int BIG = 4 << 20;

    @BeforeEach
    void onIoUring() {
        Transports.assumeAvailable("io_uring");
    }

    private static HttpBackend backend() throws Exception {
        return new HttpBackend("a", (req, out, s) -> {
            if (req.method().equals("POST")) {
                if ("100-continue".equals(req.header("expect"))) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                MessageDigest d = Patterns.sha256();
                d.update(req.readBody());
                HttpBackend.respond(out, 200, "text/plain", HexFormat.of().formatHex(d.digest())
                        .getBytes(StandardCharsets.US_ASCII));
            } else if (req.method().equals("HEAD")) {
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: " + BIG + "\r\n\r\n");
            } else if (req.uri().equals("/big")) {
                HttpBackend.respond(out, 200, "application/octet-stream", Patterns.chunk(BIG));
            } else if (req.uri().equals("/endless")) {
                // A body far longer than any buffers on the way: the server is mid-body until the proxy hangs up.
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: " + (1L << 40) + "\r\n\r\n");
                byte[] piece = Patterns.chunk(64 * 1024);
                for (;;) {
                    out.write(piece);
                }
            } else if (req.uri().equals("/chunked")) {
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
            } else if (req.uri().equals("/empty")) {
                HttpBackend.respondRaw(out, "HTTP/1.1 204 No Content\r\n\r\n");
            } else {
                String xff = req.headers().getOrDefault("x-forwarded-for", java.util.List.of("-")).get(0);
                HttpBackend.respond(out, 200, "text/plain", (req.uri() + " " + xff).getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    /** A raw-front proxy whose listener has {@code http} as its http block. */
    private static Sluice proxy(HttpBackend b, String http) throws Exception {
        return Proxies.start("""
                runtime: { transport: io_uring, worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: %s
                clusters:
                  - name: app
                    servers: [{ address: "%s" }]
                """.formatted(http, b.address()));
    }

    private static Sluice proxy(HttpBackend b) throws Exception {
        return Proxies.startHttp("io_uring", b.address());
    }

    private static HttpListener listener(Sluice s) {
        return (HttpListener) s.listener("web");
    }

    /** Connections served without channels right now. */
    private static int raw(Sluice s) {
        return listener(s).clients().memberCount();
    }

    @Test
    void plainRequestsAreServedWithoutAChannelAndTheServerSeesTheClient() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            for (int i = 0; i < 5; i++) {
                assertThat(c.get("/" + i).text()).isEqualTo("/" + i + " 127.0.0.1");
            }
            assertThat(raw(s)).isEqualTo(1);
            long spliced = SplicedBody.splicedBytes();
            RawHttp.Response big = c.get("/big");
            assertThat(big.body()).isEqualTo(Patterns.chunk(BIG));
            if (SplicedBody.ENABLED) {
                // The body's rest went from socket to socket through a pipe, not through a buffer.
                assertThat(SplicedBody.splicedBytes() - spliced).isGreaterThan(BIG / 2);
            }
            RawHttp.Response chunked = c.get("/chunked");
            assertThat(chunked.text()).isEqualTo("hello world");
            assertThat(c.get("/empty").status()).isEqualTo(204);
            c.send("HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n");
            RawHttp.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.headers().get("content-length")).containsExactly(String.valueOf(BIG));
            assertThat(c.get("/after-head").text()).isEqualTo("/after-head 127.0.0.1");
            assertThat(raw(s)).isEqualTo(1);
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n");
            for (int i = 1; i <= 3; i++) {
                assertThat(c.read().text()).isEqualTo("/" + i + " 127.0.0.1");
            }
        }
    }

    private static String digestOf(byte[] body) {
        return HexFormat.of().formatHex(Patterns.sha256().digest(body));
    }

    private static void post(RawHttp c, byte[] body) throws IOException {
        c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length + "\r\n\r\n");
        c.out.write(body);
        c.out.flush();
    }

    /**
     * A body with a plain Content-Length is read here, never past its end, whatever its size and however it is
     * split: large, empty, in the head's read, pipelined between plain requests. The connection stays raw.
     */
    @Test
    void aBodyWithALengthIsServedHere() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            byte[] up = Patterns.chunk(8 << 20);
            assertThat(c.get("/first").text()).isEqualTo("/first 127.0.0.1");
            post(c, up);
            assertThat(c.read().text()).isEqualTo(digestOf(up));
            post(c, new byte[0]);
            assertThat(c.read().text()).isEqualTo(digestOf(new byte[0]));
            // Head, body and the next requests in one write, the body's end then split over two.
            c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n"
                    + "abc");
            c.send("def" + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(c.read().text()).isEqualTo("/a 127.0.0.1");
            assertThat(c.read().text()).isEqualTo(digestOf("abcdef".getBytes(StandardCharsets.US_ASCII)));
            assertThat(c.read().text()).isEqualTo("/b 127.0.0.1");
            assertThat(raw(s)).isEqualTo(1);
            assertThat(listener(s).clients().count()).isEqualTo(1);
        }
    }

    /** A chunked body, first or after plain requests: the channel path takes the connection, nothing lost. */
    @Test
    void aChunkedBodyHandsTheConnectionToTheChannelPath() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            String chunked = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
            String digest = digestOf("abcdef".getBytes(StandardCharsets.US_ASCII));
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/first").text()).isEqualTo("/first 127.0.0.1");
                c.send(chunked);
                assertThat(c.read().text()).isEqualTo(digest);
                assertThat(c.get("/then").text()).isEqualTo("/then 127.0.0.1");
                assertThat(raw(s)).isZero();
                assertThat(listener(s).clients().count()).isEqualTo(1);
            }
            // A GET and a pipelined chunked POST in one write: the GET served here, the POST by the channel after it.
            try (RawHttp c = new RawHttp(port)) {
                c.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n" + chunked);
                assertThat(c.read().text()).isEqualTo("/a 127.0.0.1");
                assertThat(c.read().text()).isEqualTo(digest);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> listener(s).stats().active() == 0);
        }
    }

    /**
     * A client that ends inside its request's body (FIN) or resets there: the exchange ends at once, its server
     * connection is freed, and the next client is served.
     */
    @Test
    void aBodyCutShortEndsTheExchange() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            var server = s.cluster("app").servers().get(0);
            try (RawHttp c = new RawHttp(port)) {
                c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nonly this much");
                await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 1);
                c.socket.shutdownOutput();
                assertThat(c.in().read()).isEqualTo(-1); // no answer: the request can never be whole
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 0 && raw(s) == 0);
            try (RawHttp c = new RawHttp(port)) {
                c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nonly this much");
                await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 1);
                c.socket.setSoLinger(true, 0);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 0 && raw(s) == 0);
            try (RawHttp c = new RawHttp(port)) {
                post(c, "abc".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.read().text()).isEqualTo(digestOf("abc".getBytes(StandardCharsets.US_ASCII)));
            }
        }
    }

    /** A body over max_body_size is refused by its Content-Length before a byte of it is read: 413, then the end. */
    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        try (HttpBackend b = backend();
             Sluice s = proxy(b, "{ max_body_size: 1000 }");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            post(c, Patterns.chunk(1000));
            assertThat(c.read().text()).isEqualTo(digestOf(Patterns.chunk(1000)));
            c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n");
            assertThat(c.read().status()).isEqualTo(413);
            assertThat(c.closedByPeer()).isTrue();
            assertThat(b.accepted()).isEqualTo(1);
        }
    }

    /** What the channel path refuses is refused the same way: the request goes to it with its bytes. */
    @Test
    void refusalsAndInterimAnswersAreTheChannelPaths() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            try (RawHttp c = new RawHttp(port)) {
                c.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(400);
                assertThat(c.closedByPeer()).isTrue();
            }
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/ok").status()).isEqualTo(200);
                c.send("GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(400);
            }
            try (RawHttp c = new RawHttp(port)) {
                c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(100);
                c.send("abc");
                assertThat(c.read().status()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> listener(s).stats().active() == 0);
        }
    }

    @Test
    void aClosingRequestGetsItsWholeResponseAndThenTheEnd() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            for (String path : new String[] {"/small", "/big"}) {
                try (RawHttp c = new RawHttp(port)) {
                    c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    RawHttp.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body().length).isEqualTo(path.equals("/big") ? BIG : "/small 127.0.0.1".length());
                    assertThat(c.closedByPeer()).as(path).isTrue();
                }
            }
            // A half-close after the request: the response comes, then the end.
            try (RawHttp c = new RawHttp(port)) {
                c.send("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
                c.shutdownOutput();
                assertThat(c.read().text()).isEqualTo("/half 127.0.0.1");
                assertThat(c.closedByPeer()).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> listener(s).stats().active() == 0);
            assertThat(raw(s)).isZero();
        }
    }

    /**
     * Every finished connection's socket is closed: 200 closing requests one after another each see their response
     * and then the end, and the proxy holds no descriptor more afterwards than before them.
     */
    @Test
    void closedConnectionsLeaveNoDescriptorBehind() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            try (RawHttp c = new RawHttp(port)) { // the pooled server connection, for good
                c.send("GET /warm HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(200);
                assertThat(c.closedByPeer()).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> raw(s) == 0);
            long before = openDescriptors();
            for (int i = 0; i < 200; i++) {
                try (RawHttp c = new RawHttp(port)) {
                    c.send("GET /n" + i + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    assertThat(c.read().text()).isEqualTo("/n" + i + " 127.0.0.1");
                    assertThat(c.closedByPeer()).as("request %d: the proxy closed its side", i).isTrue();
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> raw(s) == 0 && openDescriptors() <= before);
        }
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** A client that leaves mid-response: the server connection is dropped, not pooled, and nothing leaks. */
    @Test
    void aClientLeavingMidResponseFreesTheServerConnection() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            try (RawHttp quitter = new RawHttp(port)) {
                quitter.send("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
                InputStream in = quitter.in();
                assertThat(HttpBackend.readLine(in)).startsWith("HTTP/1.1 200");
            }
            var server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> raw(s) == 0);
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/after").text()).isEqualTo("/after 127.0.0.1");
            }
            assertThat(b.accepted()).isEqualTo(2);
        }
    }

    /** A head begun and not finished within header_timeout is answered 408; an idle connection just closes. */
    @Test
    void aSlowHeadIsAnswered408() throws Exception {
        try (HttpBackend b = backend();
             Sluice s = proxy(b, "{ header_timeout: 300ms, keepalive_timeout: 300ms }")) {
            int port = Proxies.port(s, "web");
            try (RawHttp c = new RawHttp(port).readTimeout(Duration.ofSeconds(10))) {
                c.send("GET /slow HTTP/1.1\r\nHost: a\r\n");
                assertThat(c.read().status()).isEqualTo(408);
                assertThat(c.closedByPeer()).isTrue();
            }
            try (RawHttp c = new RawHttp(port).readTimeout(Duration.ofSeconds(10))) {
                assertThat(c.get("/x").status()).isEqualTo(200);
                assertThat(c.closedByPeer()).isTrue(); // the keep-alive wait ended
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> listener(s).stats().active() == 0);
        }
    }

    /** Draining: an idle connection closes now, a busy one after its response, which says Connection: close. */
    @Test
    void drainingClosesIdleConnectionsAndEndsBusyOnesAfterTheirResponse() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release)); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            try (RawHttp idle = new RawHttp(port); RawHttp busy = new RawHttp(port)) {
                assertThat(idle.get("/x").status()).isEqualTo(200);
                busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(5)).until(() -> s.cluster("app").servers().get(0).activeRequests() == 1);
                Thread drain = new Thread(() -> listener(s).stopAccepting());
                drain.start();
                assertThat(idle.closedByPeer()).isTrue();
                release.countDown();
                RawHttp.Response r = busy.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.headers().get("connection")).containsExactly("close");
                assertThat(busy.closedByPeer()).isTrue();
                drain.join(10_000);
            }
        }
    }

    /**
     * A client that resets its connection while its request waits on a slow server: the exchange ends at once and
     * the server connection with it (the client's socket is watched during the exchange), not when the response
     * comes; a client that only half-closes after its request still gets the response.
     */
    @Test
    void aClientResetDuringAnExchangeEndsItAtOnceAndAHalfCloseDoesNot() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release)); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            var server = s.cluster("app").servers().get(0);
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/first").status()).isEqualTo(200); // the watch is armed and stays so between
                c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 1);
                c.socket.setSoLinger(true, 0);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 0 && raw(s) == 0);
            try (RawHttp c = new RawHttp(port)) {
                c.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(5)).until(() -> server.activeRequests() == 1);
                c.shutdownOutput();
                release.countDown();
                assertThat(c.read().text()).isEqualTo("/slow");
                assertThat(c.closedByPeer()).isTrue();
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> listener(s).stats().active() == 0);
        } finally {
            release.countDown();
        }
    }

    /** A keep-alive connection idle for a while gives its read buffer back, and its next request is served. */
    @Test
    void anIdleKeepAliveConnectionGivesItsBufferBack() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            assertThat(c.get("/1").text()).isEqualTo("/1 127.0.0.1");
            await().atMost(Duration.ofSeconds(10)).until(() -> buffersHeld(s) == 0);
            assertThat(c.get("/2").text()).isEqualTo("/2 127.0.0.1");
            assertThat(c.get("/3").text()).isEqualTo("/3 127.0.0.1");
            await().atMost(Duration.ofSeconds(10)).until(() -> buffersHeld(s) == 0);
            c.send("GET /4 HTTP/1.1\r\nHost: a\r\n"); // a head begun when the buffer was given back
            await().atMost(Duration.ofSeconds(10)).until(() -> buffersHeld(s) == 1);
            c.send("\r\n");
            assertThat(c.read().text()).isEqualTo("/4 127.0.0.1");
            assertThat(raw(s)).isEqualTo(1);
        }
    }

    /** Raw connections holding a read buffer right now (asked on their loops). */
    private static int buffersHeld(Sluice s) {
        java.util.concurrent.atomic.AtomicInteger held = new java.util.concurrent.atomic.AtomicInteger();
        listener(s).clients().forEach(ch -> { }, m -> {
            if (((UringHttpConnection) m).holdsReadBuffer()) {
                held.incrementAndGet();
            }
        }, 5, java.util.concurrent.TimeUnit.SECONDS);
        return held.get();
    }

    /** {@code runtime.http_front: channels} keeps every connection on channels, and a reload cannot change it. */
    @Test
    void theChannelsFrontIsTheWayBack() throws Exception {
        String yaml = """
                runtime: { transport: io_uring, worker_threads: 1, http_front: %s }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                clusters:
                  - name: app
                    servers: [{ address: "%s" }]
                """;
        java.nio.file.Path file = java.nio.file.Files.createTempFile("sluice", ".yaml");
        try (HttpBackend b = backend()) {
            java.nio.file.Files.writeString(file, yaml.formatted("channels", b.address()));
            try (Sluice s = Sluice.start(io.sluice.config.ConfigLoader.load(file), new io.sluice.runtime.ConfigFile(file),
                    "start");
                 RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
                assertThat(c.get("/x").text()).isEqualTo("/x 127.0.0.1");
                assertThat(raw(s)).isZero();
                assertThat(listener(s).clients().count()).isEqualTo(1);
                java.nio.file.Files.writeString(file, yaml.formatted("auto", b.address()));
                var result = s.reloadAsync().get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(result.needsRestart()).anyMatch(r -> r.startsWith("runtime.http_front: channels -> auto"));
                assertThat(c.get("/y").text()).isEqualTo("/y 127.0.0.1");
                assertThat(raw(s)).isZero();
            }
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }
}
