package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/1.1 server's response heads as an HTTP/2 client gets them, read by a validating HPACK decoder (as a
 * client's is): names in lower case, without this hop's fields (Connection and those it names, Keep-Alive,
 * Proxy-Connection, Upgrade, TE), whether Sluice's own parser took the response (whole, with a length) or Netty's
 * decoder did (chunked, with trailers); and a field HTTP/2 could not carry never reaches the client. The HTTP/2
 * heads are built without Netty's second validation, on the strength of the first.
 */
class Http2ClientResponseHeadsTest {
    private static final String HOP_FIELDS = "Content-Type: text/plain\r\nX-Mixed-Case: Value With Spaces\r\n"
            + "Connection: X-Hop, keep-alive\r\nX-Hop: secret\r\nKeep-Alive: timeout=5\r\n"
            + "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nTE: trailers\r\nServer: s\r\n";

    private static String config(String server) {
        return """
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(server);
    }

    private static HttpBackend.Handler answers() {
        return (req, out, s) -> {
            req.readBody();
            switch (req.uri()) {
                case "/whole" -> HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\n" + HOP_FIELDS
                        + "Content-Length: 2\r\n\r\nok");
                case "/chunked" -> HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\n" + HOP_FIELDS
                        + "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer-Field: T1\r\n"
                        + "Keep-Alive: 1\r\n\r\n");
                case "/control" -> HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nX-Bad: a\u0001b\r\n"
                        + "Content-Length: 2\r\n\r\nok");
                default -> HttpBackend.respondRaw(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
        };
    }

    @Test
    void aServersHeadReachesAnHttp2ClientWithoutThisHopsFields() throws Exception {
        try (HttpBackend b = new HttpBackend("b", answers());
             Sluice s = Proxies.start(config(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(true);
            // Twice each: the second time HPACK's dynamic tables (Sluice's encoder's, the client's decoder's) hold them.
            String[] paths = {"/whole", "/chunked", "/whole", "/chunked"};
            for (int i = 0; i < paths.length; i++) {
                int stream = 2 * i + 1;
                c.headers(stream, true, ":method", "GET", ":scheme", "http", ":path", paths[i], ":authority", "t");
                Http2Headers head = decode(hpack, stream, c.await(RawH2.HEADERS, stream));
                assertThat(head.status()).hasToString("200");
                List<Map.Entry<String, String>> expected = new ArrayList<>(List.of(Map.entry(":status", "200"),
                        Map.entry("content-type", "text/plain"), Map.entry("x-mixed-case", "Value With Spaces"),
                        Map.entry("server", "s")));
                if (paths[i].equals("/whole")) {
                    expected.add(Map.entry("content-length", "2"));
                }
                expected.add(Map.entry("via", "1.1 sluice"));
                assertThat(pairs(head)).as(paths[i]).containsExactlyElementsOf(expected);
                if (paths[i].equals("/chunked")) {
                    RawH2.Frame data = c.await(RawH2.DATA, stream);
                    assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("ok");
                    Http2Headers trailers = decode(hpack, stream, c.await(RawH2.HEADERS, stream));
                    assertThat(pairs(trailers)).containsExactly(Map.entry("x-trailer-field", "T1"));
                } else {
                    RawH2.Frame data = c.await(RawH2.DATA, stream);
                    assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("ok");
                    assertThat(data.flags() & RawH2.END_STREAM).isEqualTo(RawH2.END_STREAM);
                }
            }
        }
    }

    /** A control character in a value (which HTTP/2 forbids as HTTP/1.1 does): refused, never passed on. */
    @Test
    void aValueHttp2CannotCarryNeverReachesTheClient() throws Exception {
        try (HttpBackend b = new HttpBackend("b", answers());
             Sluice s = Proxies.start(config(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(true);
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/control", ":authority", "t");
            Http2Headers head = decode(hpack, 1, c.await(RawH2.HEADERS, 1));
            assertThat(head.status()).hasToString("502");
            assertThat(head.contains("x-bad")).isFalse();
        }
    }

    private static Http2Headers decode(DefaultHttp2HeadersDecoder hpack, int stream, RawH2.Frame f)
            throws Exception {
        assertThat(f).isNotNull();
        ByteBuf block = Unpooled.wrappedBuffer(f.payload());
        try {
            return hpack.decodeHeaders(stream, block);
        } finally {
            block.release();
        }
    }

    private static List<Map.Entry<String, String>> pairs(Http2Headers h) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            out.add(Map.entry(e.getKey().toString(), e.getValue().toString()));
        }
        return out;
    }
}
