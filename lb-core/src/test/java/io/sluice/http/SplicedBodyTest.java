package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large response bodies spliced from the server's socket to the client's ({@link SplicedBody}) on the raw HTTP/1.1
 * front: whole and in order, the server connection reused after, and every way the splice can stop early: the
 * server's FIN while the client is behind (Netty then reads the rest, which must follow what the pipe held), the
 * server dying mid-body, the client leaving.
 */
class SplicedBodyTest {
    private static final int BIG = 4 << 20;
    /** Larger than the sockets' buffers between server and client, so the server's FIN comes late. */
    private static final int CLOSING = 16 << 20;

    @BeforeEach
    void onIoUring() {
        Transports.assumeAvailable("io_uring");
        Assumptions.assumeTrue(SplicedBody.ENABLED, "splice(2) needs Netty's epoll library");
    }

    private HttpBackend backend() throws Exception {
        return new HttpBackend("a", (req, out, s) -> {
            switch (req.uri()) {
                case "/big" -> HttpBackend.respond(out, 200, "application/octet-stream", Patterns.chunk(BIG));
                case "/close" -> {
                    head(out, CLOSING, "Connection: close\r\n");
                    out.write(Patterns.chunk(CLOSING));
                    out.flush();
                    s.close();
                }
                case "/half" -> {
                    head(out, BIG, "");
                    out.write(Patterns.chunk(BIG), 0, BIG / 2);
                    out.flush();
                    s.close(); // a FIN where the rest of the body should be
                }
                case "/reset" -> {
                    head(out, BIG, "");
                    out.write(Patterns.chunk(BIG), 0, BIG / 2);
                    out.flush();
                    s.setSoLinger(true, 0);
                    s.close();
                }
                default -> HttpBackend.respond(out, 200, "text/plain", req.uri().getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    private static void head(OutputStream out, int length, String extra) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + length + "\r\n" + extra + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    }

    private static Sluice proxy(HttpBackend b) throws Exception {
        return Proxies.startHttp("io_uring", b.address());
    }

    private static Server server(Sluice s) {
        return s.cluster("app").servers().get(0);
    }

    @Test
    void largeBodiesAreSplicedWholeAndTheServerConnectionIsReused() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            long spliced = SplicedBody.splicedBytes();
            long received = server(s).bytesReceived().sum();
            for (int i = 0; i < 3; i++) {
                RawHttp.Response r = c.get("/big");
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).isEqualTo(Patterns.chunk(BIG));
                assertThat(c.get("/small").text()).isEqualTo("/small");
            }
            assertThat(SplicedBody.splicedBytes() - spliced).isGreaterThan(3L * BIG / 2);
            // Spliced bytes count as the server's, as buffered ones do.
            assertThat(server(s).bytesReceived().sum() - received).isGreaterThanOrEqualTo(3L * BIG);
            assertThat(b.accepted()).isEqualTo(1);
        }
    }

    /** The access log's size of a spliced response is all of its body, as for a buffered one. */
    @Test
    void theAccessLogCountsTheSplicedBytes(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("access.json");
        try (HttpBackend b = backend();
             Sluice s = Proxies.start("""
                     runtime: { transport: io_uring, worker_threads: 1 }
                     admin: { enabled: false }
                     listeners:
                       - name: web
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         http: { access_log: { format: json, path: "%s" } }
                     clusters:
                       - name: app
                         servers: [ { address: "%s" } ]
                     """.formatted(log, b.address()));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            long spliced = SplicedBody.splicedBytes();
            assertThat(c.get("/big").body()).isEqualTo(Patterns.chunk(BIG));
            assertThat(SplicedBody.splicedBytes() - spliced).isGreaterThan(BIG / 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readAllLines(log).size() == 1);
            assertThat(Files.readAllLines(log).get(0)).contains("\"bytes\":" + BIG + ",");
        }
    }

    @Test
    void pipelinedRequestsBehindASplicedBodyAreAnsweredInOrder() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b); RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            c.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n");
            assertThat(c.read().body()).isEqualTo(Patterns.chunk(BIG));
            assertThat(c.read().text()).isEqualTo("/one");
            assertThat(c.read().body()).isEqualTo(Patterns.chunk(BIG));
            assertThat(c.read().text()).isEqualTo("/two");
        }
    }

    /**
     * A server that closes after each body (Connection: close): its FIN comes while the splice is still taking the
     * body's end, Netty reads on seeing it, and the bytes it reads must follow the ones the splice took; or it comes
     * once the splice has taken the whole body but the pipe still holds its end for the client, and the response
     * is whole all the same (CI once saw it cut off there). Several times, the client reading at its own pace,
     * since where the FIN lands varies.
     */
    @Test
    void aServerClosingAfterTheBodyLosesNothing() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            for (int i = 0; i < 8; i++) {
                try (RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
                    c.send("GET /close HTTP/1.1\r\nHost: a\r\n\r\n");
                    RawHttp.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).as("response %d", i).isEqualTo(Patterns.chunk(CLOSING));
                }
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server(s).activeRequests() == 0);
        }
    }

    @Test
    void aServerDyingMidBodyCutsOnlyThatResponse() throws Exception {
        try (HttpBackend b = backend(); Sluice s = proxy(b)) {
            int port = Proxies.port(s, "web");
            for (String path : new String[] {"/half", "/reset"}) {
                try (RawHttp c = new RawHttp(port)) {
                    c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n");
                    InputStream in = c.in();
                    assertThat(HttpBackend.readLine(in)).isEqualTo("HTTP/1.1 200 OK");
                    while (!HttpBackend.readLine(in).isEmpty()) {
                        // the head's fields
                    }
                    byte[] body = readToEnd(in);
                    assertThat(body.length).as(path).isLessThan(BIG);
                    if (path.equals("/half")) {
                        // A FIN is no reset: everything the server sent before it arrives.
                        assertThat(body).isEqualTo(java.util.Arrays.copyOf(Patterns.chunk(BIG), BIG / 2));
                    }
                }
            }
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/after").text()).isEqualTo("/after");
                assertThat(c.get("/big").body()).isEqualTo(Patterns.chunk(BIG));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server(s).activeRequests() == 0);
        }
    }

    /** Reads until the connection ends; a reset ends it too. */
    private static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
        } catch (SocketException reset) {
            // what came before it is kept
        }
        return out.toByteArray();
    }
}
