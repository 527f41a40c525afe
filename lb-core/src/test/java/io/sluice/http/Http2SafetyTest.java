package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HTTP/2 requests Sluice must refuse, and the known attacks on HTTP/2 servers, with a raw frame client. */
class Http2SafetyTest {
    private static final String[] BASE = {":method", "GET", ":scheme", "http", ":path", "/x", ":authority", "a"};

    private static Sluice start(HttpBackend backend, String http2) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http2: { %s }
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                """.formatted(http2, backend.address()));
    }

    private static String[] with(String... extra) {
        String[] all = new String[BASE.length + extra.length];
        System.arraycopy(BASE, 0, all, 0, BASE.length);
        System.arraycopy(extra, 0, all, BASE.length, extra.length);
        return all;
    }

    /** The HTTP/1.1 smuggling corpus's HTTP/2 counterparts: each a stream error, none forwarded. */
    @Test
    void malformedRequestsAreResetAndNeverForwarded() throws Exception {
        List<String[]> bad = List.of(
                with("connection", "keep-alive"),
                with("transfer-encoding", "chunked"),
                with("upgrade", "websocket"),
                with("keep-alive", "5"),
                with("proxy-connection", "close"),
                with("te", "gzip"),
                with("X-Upper", "1"),
                new String[] {":method", "GET", ":scheme", "http", ":authority", "a"},
                new String[] {":method", "GET", ":method", "POST", ":scheme", "http", ":path", "/x", ":authority", "a"},
                new String[] {":method", "GET", ":scheme", "http", "x-a", "1", ":path", "/x", ":authority", "a"});
        List<String> complete = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> {
                 byte[] body = req.readBody(); // ends early, without error, when the connection is cut
                 String length = req.header("content-length");
                 if (length == null || body.length == Integer.parseInt(length)) {
                     complete.add(req.uri());
                 }
                 HttpBackend.respond(out, 200, "text/plain", new byte[0]);
             });
             Sluice s = start(backend, "")) {
            int port = Proxies.port(s, "web");
            int stream = 1;
            try (RawH2 c = new RawH2(port)) {
                for (String[] headers : bad) {
                    c.headers(stream, true, headers);
                    RawH2.Frame f = c.await(RawH2.RST_STREAM, stream);
                    assertThat(f).as("stream %d %s", stream, String.join(",", headers)).isNotNull();
                    stream += 2;
                }
                // Content-Length that the DATA disagrees with: the head may already be on its way (bodies stream),
                // but the request never completes at the server: its connection is cut mid-body.
                c.headers(stream, false, ":method", "POST", ":scheme", "http", ":path", "/cl", ":authority", "a",
                        "content-length", "3");
                c.frame(RawH2.DATA, RawH2.END_STREAM, stream, new byte[10]);
                assertThat(c.await(RawH2.RST_STREAM, stream)).isNotNull();
                stream += 2;
                // The connection still works: a good request after all that is answered.
                c.headers(stream, true, BASE);
                RawH2.Frame ok = c.await(RawH2.HEADERS, stream);
                assertThat(ok).isNotNull();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(complete).containsExactly("/x"));
            // Of the malformed heads, none reached the server; the content-length one at most began to.
            assertThat(backend.requests).extracting(HttpBackend.Request::uri).allMatch(u -> u.equals("/x")
                    || u.equals("/cl"));
        }
    }

    /**
     * RFC 9113 8.3.1: a host field that names another authority than :authority makes the request malformed (two
     * parsers could route it differently): reset, never forwarded. One that agrees (case aside) is served.
     */
    @Test
    void hostDisagreeingWithAuthorityIsRefused() throws Exception {
        try (HttpBackend backend = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = start(backend, "");
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, with("host", "b"));
            RawH2.Frame rst = c.await(RawH2.RST_STREAM, 1);
            assertThat(rst).isNotNull();
            assertThat(rst.errorCode()).isEqualTo(1); // PROTOCOL_ERROR
            c.headers(3, true, with("host", "A"));
            RawH2.Frame ok = c.await(RawH2.HEADERS, 3);
            assertThat(ok).isNotNull();
            assertThat(backend.requests).extracting(r -> r.header("host")).containsExactly("a");
        }
    }

    /** CVE-2023-44487: a client resetting streams faster than allowed gets GOAWAY ENHANCE_YOUR_CALM. */
    @Test
    void rapidResetGetsGoAway() throws Exception {
        try (HttpBackend backend = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = start(backend, "max_resets_per_window: 20, reset_window: 60s")) {
            try (RawH2 c = new RawH2(Proxies.port(s, "web"))) {
                for (int i = 0; i < 50; i++) {
                    int stream = 1 + 2 * i;
                    c.headers(stream, true, BASE);
                    c.rst(stream);
                }
                RawH2.Frame goaway = c.await(RawH2.GOAWAY, 0);
                assertThat(goaway).isNotNull();
                assertThat(goaway.errorCode()).isEqualTo(0xb); // ENHANCE_YOUR_CALM
                assertThat(c.read()).as("closed after the GOAWAY").isNull();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(sample(Proxies.admin(s, "/metrics")
                    .body(), "sluice_http2_goaways_total{listener=\"web\",reason=\"enhance_your_calm\"}")).isEqualTo(1));
        }
    }

    /** CVE-2024-27316: endless small CONTINUATION frames are not buffered forever; the connection is closed. */
    @Test
    void continuationFloodIsClosed() throws Exception {
        try (HttpBackend backend = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = start(backend, "")) {
            try (RawH2 c = new RawH2(Proxies.port(s, "web"))) {
                c.frame(RawH2.HEADERS, 0, 1, RawH2.block(BASE));
                RawH2.Frame goaway = null;
                try {
                    for (int i = 0; i < 100_000 && !c.socket.isClosed(); i++) {
                        c.frame(RawH2.CONTINUATION, 0, 1, RawH2.block("x-f", "1"));
                    }
                } catch (java.io.IOException closedWhileSending) {
                    // the server closed the connection mid-flood, as it should
                }
                goaway = c.await(RawH2.GOAWAY, 0);
                if (goaway != null) {
                    assertThat(goaway.errorCode()).isNotZero();
                }
                assertThat(c.read()).isNull();
            }
            assertThat(backend.requests).isEmpty();
        }
    }

    /** A client that never opens its window (SETTINGS_INITIAL_WINDOW_SIZE 0) is closed after stall_timeout. */
    @Test
    void zeroWindowClientIsClosedAfterStallTimeout() throws Exception {
        byte[] big = new byte[100_000];
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> HttpBackend.respond(out, 200,
                "application/octet-stream", big));
             Sluice s = start(backend, "stall_timeout: 300ms")) {
            try (RawH2 c = new RawH2(Proxies.port(s, "web"), 0x4, 0)) {
                c.headers(1, true, BASE);
                assertThat(c.await(RawH2.HEADERS, 1)).isNotNull();
                RawH2.Frame goaway = c.await(RawH2.GOAWAY, 0);
                assertThat(goaway).isNotNull();
                assertThat(goaway.errorCode()).isZero();
                assertThat(c.read()).isNull();
            }
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(sample(Proxies.admin(s, "/metrics")
                    .body(), "sluice_http2_goaways_total{listener=\"web\",reason=\"stall\"}")).isEqualTo(1));
        }
    }
}
