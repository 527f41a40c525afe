package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Request smuggling vectors, limits and timeouts: each gets its status and, where the stream is suspect, a close. */
class HttpSafetyTest {
    private final List<AutoCloseable> resources = new ArrayList<>();
    private HttpBackend backend;
    private Sluice sluice;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private int proxy(String http) throws Exception {
        backend = new HttpBackend("a", HttpBackend.sayName("a"));
        resources.add(backend);
        Sluice s = Proxies.start("""
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { %s }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(http, backend.address()));
        resources.add(s);
        sluice = s;
        return Proxies.port(s, "web");
    }

    /**
     * Not one byte of the refused request may reach the server, whatever its method: a head forwarded before
     * its body turned out bad is already a smuggling risk. The proxy is closed first so that nothing can still
     * be on its way; then the server's count is final.
     */
    private void assertNothingReachedTheServer(String what) throws Exception {
        sluice.close();
        assertThat(backend.bytesReceivedOnceQuiet()).as("bytes of \"" + what + "\" that reached the server").isZero();
        assertThat(backend.requests).as(what).isEmpty();
    }

    private RawHttp client(int port) throws Exception {
        RawHttp c = new RawHttp(port);
        resources.add(c);
        return c;
    }

    /**
     * Each request is sent with \n written as CRLF unless the case is about line endings; | stands for CRLF.
     * The chunk-framing cases are decided only when the body is decoded: here it arrives with the head, before
     * the first server connection is up, so nothing is sent (for a warm pool see
     * {@link #badChunkFramingWithAWarmPoolSendsTheServerNothingOfIt}).
     */
    /**
     * The same chunk-framing cases with a warm pool: after one good request the connection to the server is
     * idle in the pool and the bad request's head could go out at once. It is written but flushed only at the
     * end of the read batch, and the bad body in the same batch closes that server connection first: the server
     * sees the good request only.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', textBlock = """
            invalid chunk size;                        POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||zz|hello|0||
            chunk data not ended by CRLF;              POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||5|helloXX0||
            bare LF after a chunk size;                POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||5\\nhello|0||
            """)
    void badChunkFramingWithAWarmPoolSendsTheServerNothingOfIt(String name, String raw) throws Exception {
        int port = proxy("");
        RawHttp c = client(port);
        assertThat(c.get("/warm").status()).isEqualTo(200);
        String wire = raw.replace("|", "\r\n").replace("\\n", "\n");
        RawHttp.Response r = c.send(wire).read();
        assertThat(r.status()).as(name).isEqualTo(400);
        sluice.close();
        assertThat(backend.requests).as(name).extracting(HttpBackend.Request::uri).containsExactly("/warm");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', textBlock = """
            Content-Length and Transfer-Encoding;      POST / HTTP/1.1|Host: a|Content-Length: 5|Transfer-Encoding: chunked||0||
            two differing Content-Lengths;             POST / HTTP/1.1|Host: a|Content-Length: 5|Content-Length: 6||hello!
            repeated equal Content-Length;             POST / HTTP/1.1|Host: a|Content-Length: 5|Content-Length: 5||hello
            Content-Length list;                       POST / HTTP/1.1|Host: a|Content-Length: 5, 5||hello
            signed Content-Length;                     POST / HTTP/1.1|Host: a|Content-Length: +5||hello
            Transfer-Encoding gzip then chunked;       POST / HTTP/1.1|Host: a|Transfer-Encoding: gzip, chunked||0||
            Transfer-Encoding chunked then gzip;       POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked, gzip||0||
            Transfer-Encoding identity;                POST / HTTP/1.1|Host: a|Transfer-Encoding: identity||
            Transfer-Encoding xchunked;                POST / HTTP/1.1|Host: a|Transfer-Encoding: xchunked||
            Transfer-Encoding twice;                   POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked|Transfer-Encoding: chunked||0||
            Transfer-Encoding on HTTP/1.0;             POST / HTTP/1.0|Host: a|Transfer-Encoding: chunked||0||
            invalid chunk size;                        POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||zz|hello|0||
            chunk size with 0x;                        POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||0x5|hello|0||
            chunk size overflow;                       POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||ffffffffffffffffff|hello|0||
            chunk data not ended by CRLF;              POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||5|helloXX0||
            space before colon;                        GET / HTTP/1.1|Host : a||
            space before colon in Transfer-Encoding;   POST / HTTP/1.1|Host: a|Transfer-Encoding : chunked||0||
            tab before colon;                          GET / HTTP/1.1|Host\\t: a||
            obs-fold;                                  GET / HTTP/1.1|Host: a|X-A: b| c||
            obs-fold with tab;                         GET / HTTP/1.1|Host: a|X-A: b|\\tc||
            NUL in a header value;                     GET / HTTP/1.1|Host: a|X-A: b\\0c||
            CR in a header value;                      GET / HTTP/1.1|Host: a|X-A: b\\rc||
            bare LF line endings;                      GET / HTTP/1.1\\nHost: a\\n\\n
            bare LF after one header;                  GET / HTTP/1.1|Host: a\\nX-A: b||
            bare LF after a chunk size;                POST / HTTP/1.1|Host: a|Transfer-Encoding: chunked||5\\nhello|0||
            two Host headers;                          GET / HTTP/1.1|Host: a|Host: b||
            no Host on HTTP/1.1;                       GET / HTTP/1.1||
            control character in a header name;        GET / HTTP/1.1|Host: a|X\\u0001A: b||
            header line without colon;                 GET / HTTP/1.1|Host: a|XA b||
            space in the request target;               GET /a b HTTP/1.1|Host: a||
            """)
    void ambiguousRequestIsRefusedWith400AndTheConnectionClosed(String name, String raw) throws Exception {
        int port = proxy("");
        RawHttp c = client(port);
        String wire = raw.replace("|", "\r\n").replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t")
                .replace("\\0", "\0").replace("\\u0001", "\u0001");
        RawHttp.Response r = c.send(wire).read();
        assertThat(r.status()).as(name).isEqualTo(400);
        assertThat(r.header("connection")).isEqualTo("close");
        assertThat(c.closedByPeer()).as("closed after " + name).isTrue();
        assertNothingReachedTheServer(name);
    }

    @Test
    void requestLineTooLongGets414() throws Exception {
        RawHttp c = client(proxy("max_request_line: 1KiB"));
        RawHttp.Response r = c.send("GET /" + "a".repeat(2000) + " HTTP/1.1\r\nHost: a\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(414);
        assertThat(c.closedByPeer()).isTrue();
        assertNothingReachedTheServer("request line too long");
    }

    @Test
    void headerSectionTooLargeGets431() throws Exception {
        RawHttp c = client(proxy("max_header_size: 2KiB"));
        RawHttp.Response r = c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(3000) + "\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(431);
        assertThat(c.closedByPeer()).isTrue();
        assertNothingReachedTheServer("header section too large");
    }

    @Test
    void tooManyHeaderFieldsGets431() throws Exception {
        RawHttp c = client(proxy("max_headers: 10"));
        StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 10; i++) {
            sb.append("X-H").append(i).append(": v\r\n");
        }
        RawHttp.Response r = c.send(sb.append("\r\n").toString()).read();
        assertThat(r.status()).isEqualTo(431);
        assertThat(c.closedByPeer()).isTrue();
        assertNothingReachedTheServer("too many header fields");
    }

    @Test
    void declaredBodyOverTheLimitGets413WithoutContactingTheServer() throws Exception {
        RawHttp c = client(proxy("max_body_size: 1KiB"));
        RawHttp.Response r = c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n").read();
        assertThat(r.status()).isEqualTo(413);
        assertThat(c.closedByPeer()).isTrue();
        assertNothingReachedTheServer("declared body over the limit");
        assertThat(backend.accepted()).as("connections, ours included").isEqualTo(1);
    }

    @Test
    void chunkedBodyGrowingOverTheLimitGets413() throws Exception {
        RawHttp c = client(proxy("max_body_size: 1KiB"));
        c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n" + "x".repeat(1024) + "\r\n"
                + "1\r\ny\r\n0\r\n\r\n");
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(413);
        assertThat(c.closedByPeer()).isTrue();
    }

    @Test
    void bodyWithinTheLimitPasses() throws Exception {
        RawHttp c = client(proxy("max_body_size: 1KiB"));
        c.send("POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n" + "x".repeat(1024));
        assertThat(c.read().text()).isEqualTo("a POST /ok");
    }

    @Test
    void slowRequestHeadGets408AndClose() throws Exception {
        RawHttp c = client(proxy("header_timeout: 300ms"));
        c.send("GET / HTTP/1.1\r\nHost: a\r\n");
        RawHttp.Response r = c.read();
        assertThat(r.status()).isEqualTo(408);
        assertThat(c.closedByPeer()).isTrue();
        assertNothingReachedTheServer("incomplete head");
    }

    @Test
    void slowHeadOnAKeptAliveConnectionGets408() throws Exception {
        RawHttp c = client(proxy("header_timeout: 300ms, keepalive_timeout: 30s"));
        assertThat(c.get("/").status()).isEqualTo(200);
        c.send("GET / HTTP/1.1\r\n");
        assertThat(c.read().status()).isEqualTo(408);
        assertThat(c.closedByPeer()).isTrue();
    }

    @Test
    void idleKeepAliveConnectionIsClosedQuietly() throws Exception {
        RawHttp c = client(proxy("keepalive_timeout: 300ms"));
        assertThat(c.get("/").status()).isEqualTo(200);
        // No response, just a close: the client had not asked for anything.
        assertThat(c.closedByPeer()).isTrue();
    }

    @Test
    void connectionThatNeverSendsIsClosedAfterTheHeaderTimeout() throws Exception {
        RawHttp c = client(proxy("header_timeout: 300ms"));
        assertThat(c.closedByPeer()).isTrue();
    }
}
