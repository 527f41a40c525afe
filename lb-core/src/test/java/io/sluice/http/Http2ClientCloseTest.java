package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 client that closes its side of the connection (a FIN, as curl does when it exits) ends the connection
 * once its streams are done. Listeners keep half-closed sockets open, and the HTTP/2 handler did not act on the
 * client's FIN: the socket stayed in CLOSE_WAIT, counted as open, until the idle timeout.
 */
class Http2ClientCloseTest {
    private static final String[] GET = {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a"};

    private static Sluice start(HttpBackend a) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(a.address()));
    }

    private static int open(Sluice s) {
        return s.listener("web").stats().active();
    }

    @Test
    void aClientsFinClosesAnIdleConnection() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = start(a);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, GET);
            assertThat(c.await(RawH2.HEADERS, 1)).isNotNull();
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 1);
            c.socket.shutdownOutput();
            // Sluice closes: the client reads to the end of the stream, and the listener counts nothing open.
            while (c.read() != null) {
                continue;
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 0);
        }
    }

    @Test
    void aStreamOpenAtTheClientsFinIsAnsweredThenTheConnectionCloses() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        HttpBackend.Handler slow = answersOnRelease(release, "late".getBytes(StandardCharsets.US_ASCII));
        try (HttpBackend a = new HttpBackend("a", slow);
             Sluice s = start(a);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, GET);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            c.socket.shutdownOutput();
            release.countDown();
            // The answer still comes (the client can read after its FIN), and then the end of the connection.
            List<RawH2.Frame> frames = new ArrayList<>();
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                frames.add(f);
            }
            assertThat(frames).anyMatch(f -> f.stream() == 1 && f.type() == RawH2.DATA
                    && new String(f.payload(), StandardCharsets.US_ASCII).equals("late"));
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 0);
        }
    }

    /**
     * A client that resets its connection while Sluice writes the answers of many streams: the writes fail, and still
     * the connection closes and every exchange ends (its server request's lease given back), whichever of the
     * frames' writes fail first.
     */
    @Test
    void aClientResetWhileAnswersAreWrittenEndsTheConnectionAndEveryExchange() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        byte[] body = "x".repeat(600).getBytes(StandardCharsets.US_ASCII);
        HttpBackend.Handler slow = answersOnRelease(release, body);
        int streams = 40;
        try (HttpBackend a = new HttpBackend("a", slow);
             Sluice s = start(a)) {
            RawH2 c = RawH2.withReceiveBuffer(Proxies.port(s, "web"), 1024);
            for (int i = 0; i < streams; i++) {
                c.headers(1 + 2 * i, true, GET);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == streams);
            c.socket.setSoLinger(true, 0);
            release.countDown();
            c.socket.close(); // an RST: Sluice's writes to it fail
            var server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 0);
        }
    }

    @Test
    void aRequestWhoseBodyTheFinCutShortIsResetAndItsServerExchangeEnds() throws Exception {
        cutShort(":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a", "content-length", "10");
    }

    /** Without a length the server gets the body chunked: the cut must not send it the last chunk. */
    @Test
    void aBodyOfUnknownLengthCutShortIsNotEndedForTheServer() throws Exception {
        cutShort(":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a");
    }

    private void cutShort(String... head) throws Exception {
        List<String> bodyEnds = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpBackend.Handler reader = (req, out, sock) -> {
            try {
                bodyEnds.add("whole " + req.readBody().length);
            } catch (java.io.IOException e) {
                bodyEnds.add("cut");
                throw e;
            }
            HttpBackend.respond(out, 200, "text/plain", "ok".getBytes(StandardCharsets.US_ASCII));
        };
        try (HttpBackend a = new HttpBackend("a", reader);
             Sluice s = start(a);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, head);
            c.sendData(1, "four".getBytes(StandardCharsets.US_ASCII), false);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            c.socket.shutdownOutput();
            // Six bytes of the body can never come: the stream is reset at once (not after the 10m idle timeout),
            // the server's request is not passed on as whole, and the connection ends.
            List<RawH2.Frame> frames = new ArrayList<>();
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                frames.add(f);
            }
            assertThat(frames).anyMatch(f -> f.stream() == 1 && f.type() == RawH2.RST_STREAM
                    && java.util.Arrays.equals(f.payload(), new byte[] {0, 0, 0, 8})); // CANCEL
            assertThat(frames).noneMatch(f -> f.stream() == 1 && f.type() == RawH2.HEADERS);
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> !bodyEnds.isEmpty());
            assertThat(bodyEnds).containsExactly("cut");
        }
    }

    @Test
    void aWholeRequestBesideACutOneIsStillAnswered() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = start(a);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a",
                    "content-length", "10");
            c.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a");
            c.socket.shutdownOutput();
            List<RawH2.Frame> frames = new ArrayList<>();
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                frames.add(f);
            }
            assertThat(frames).anyMatch(f -> f.stream() == 1 && f.type() == RawH2.RST_STREAM);
            assertThat(frames).anyMatch(f -> f.stream() == 3 && f.type() == RawH2.DATA
                    && new String(f.payload(), StandardCharsets.US_ASCII).contains("a"));
            await().atMost(Duration.ofSeconds(10)).until(() -> open(s) == 0);
        }
    }

    /** A server that reads the request, then holds its answer ({@code body}, 200) until {@code release} opens. */
    private static HttpBackend.Handler answersOnRelease(CountDownLatch release, byte[] body) {
        return (req, out, sock) -> {
            req.readBody();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            HttpBackend.respond(out, 200, "text/plain", body);
        };
    }
}
