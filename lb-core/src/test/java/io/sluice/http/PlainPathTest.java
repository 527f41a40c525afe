package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The reused objects of the HTTP/1.1 path (the request's {@link PlainRequest}, the server connection's
 * {@link PlainResponse}, the exchange with its forwarder and attempt) over many requests of one connection,
 * mixed with what they do not take (chunked, bodiless and HEAD answers, a retry after a server hung up, answers
 * of Sluice's own after a failed connect): every response is the one its request asked for. And an HTTP/2 client whose responses carry
 * uncommon lower-case names, which HPACK's dynamic table keeps beyond each response; and one whose streams come
 * all at once, whose responses' bytes may still wait for the client's window while their server connection's
 * {@link PlainResponse} is refilled with the next.
 */
class PlainPathTest {
    private static String config(String server) throws IOException {
        return """
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    routes:
                      - { match: { path_prefix: /nowhere/ }, cluster: empty }
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                  - { name: empty, servers: [ { address: "127.0.0.1:%d" } ] }
                """.formatted(server, Proxies.freePort());
    }

    /** Answers by path, each response in one write: plain, chunked, 204, or a hang-up the first time. */
    private static HttpBackend.Handler byPath(AtomicBoolean hungUp) {
        return (req, out, s) -> {
            req.readBody();
            String uri = req.uri();
            if (uri.startsWith("/chunked/")) {
                String body = "c" + uri;
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
            } else if (uri.startsWith("/empty/")) {
                HttpBackend.respondRaw(out, "HTTP/1.1 204 No Content\r\nx-path: " + uri + "\r\n\r\n");
            } else if (uri.startsWith("/hangup/") && hungUp.compareAndSet(false, true)) {
                s.close();
            } else {
                plain(out, uri, req.method().equals("HEAD"));
            }
        };
    }

    private static void plain(OutputStream out, String uri, boolean head) throws IOException {
        String body = "p" + uri;
        String name = "x-custom-" + (uri.length() % 3);
        HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\n" + name + ": v" + uri + "\r\nx-path: " + uri
                + "\r\nContent-Length: " + body.length() + "\r\n\r\n" + (head ? "" : body));
    }

    @Test
    void everyResponseOnOneConnectionIsItsOwn() throws Exception {
        AtomicBoolean hungUp = new AtomicBoolean();
        try (HttpBackend b = new HttpBackend("b", byPath(hungUp));
             Sluice s = Proxies.start(config(b.address()));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            String[] kinds = {"/plain/", "/chunked/", "/plain/", "/empty/", "/hangup/", "/nowhere/", "/plain/"};
            for (int i = 0; i < 42; i++) {
                String uri = kinds[i % kinds.length] + i;
                RawHttp.Response r = c.get(uri);
                if (uri.startsWith("/chunked/")) {
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.text()).isEqualTo("c" + uri);
                } else if (uri.startsWith("/empty/")) {
                    assertThat(r.status()).isEqualTo(204);
                    assertThat(r.header("x-path")).isEqualTo(uri);
                } else if (uri.startsWith("/nowhere/")) {
                    assertThat(r.status()).isEqualTo(502); // nothing listens there
                } else {
                    assertThat(r.status()).as(uri).isEqualTo(200);
                    assertThat(r.text()).isEqualTo("p" + uri);
                    assertThat(r.header("x-path")).isEqualTo(uri);
                    assertThat(r.header("x-custom-" + (uri.length() % 3))).isEqualTo("v" + uri);
                }
            }
            c.send("HEAD /plain/head HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response head = c.read(true);
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("content-length")).isEqualTo(String.valueOf("p/plain/head".length()));
            assertThat(c.get("/plain/after-head").text()).isEqualTo("p/plain/after-head");
            assertThat(hungUp).isTrue();
        }
    }

    /** Netty's HPACK decoder keeps the client's dynamic table, as any HTTP/2 client does. */
    @Test
    void anHttp2ClientGetsEveryUncommonNameRight() throws Exception {
        try (HttpBackend b = new HttpBackend("b", byPath(new AtomicBoolean(true)));
             Sluice s = Proxies.start(config(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder hpack =
                    new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(true);
            for (int i = 0; i < 12; i++) {
                int stream = 2 * i + 1;
                String uri = "/plain/" + "x".repeat(i);
                c.headers(stream, true, ":method", "GET", ":scheme", "http", ":path", uri, ":authority", "test");
                RawH2.Frame head = c.await(RawH2.HEADERS, stream);
                assertThat(head).isNotNull();
                io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.wrappedBuffer(head.payload());
                io.netty.handler.codec.http2.Http2Headers h = hpack.decodeHeaders(stream, block);
                block.release();
                assertThat(h.status().toString()).isEqualTo("200");
                assertThat(h.get("x-custom-" + (uri.length() % 3))).as(uri).hasToString("v" + uri);
                assertThat(h.get("x-path")).hasToString(uri);
                RawH2.Frame data = c.await(RawH2.DATA, stream);
                assertThat(new String(data.payload(), StandardCharsets.US_ASCII)).isEqualTo("p" + uri);
            }
        }
    }

    /** Many streams at once: each answer is its own, though its server connection's response object is reused. */
    @Test
    void http2StreamsAtOnceGetTheirOwnAnswers() throws Exception {
        try (HttpBackend b = new HttpBackend("b", byPath(new AtomicBoolean(true)));
             Sluice s = Proxies.start(config(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            int streams = 40;
            for (int i = 0; i < streams; i++) {
                c.headers(2 * i + 1, true, ":method", "GET", ":scheme", "http", ":path", "/plain/" + i,
                        ":authority", "test");
            }
            io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder hpack =
                    new io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder(true);
            java.util.Map<Integer, String> paths = new java.util.HashMap<>();
            java.util.Map<Integer, String> bodies = new java.util.HashMap<>();
            while (bodies.size() < streams) {
                RawH2.Frame f = c.read();
                assertThat(f).as("connection closed with %s answered", bodies.size()).isNotNull();
                if (f.type() == RawH2.HEADERS) {
                    io.netty.buffer.ByteBuf block = io.netty.buffer.Unpooled.wrappedBuffer(f.payload());
                    io.netty.handler.codec.http2.Http2Headers h = hpack.decodeHeaders(f.stream(), block);
                    block.release();
                    assertThat(h.status().toString()).isEqualTo("200");
                    paths.put(f.stream(), h.get("x-path").toString());
                } else if (f.type() == RawH2.DATA) {
                    bodies.merge(f.stream(), new String(f.payload(), StandardCharsets.US_ASCII), String::concat);
                }
            }
            for (int i = 0; i < streams; i++) {
                assertThat(paths.get(2 * i + 1)).isEqualTo("/plain/" + i);
                assertThat(bodies.get(2 * i + 1)).isEqualTo("p/plain/" + i);
            }
        }
    }

    /**
     * HTTP/2 requests one after another on one event loop, each in the request object the one before gave back
     * ({@link Http2Request}): a head larger than the first sizes of the field table and of the encoder's scratch
     * array arrives whole (cookies joined), and the requests after it carry their own fields and none of its.
     */
    @Test
    void http2RequestsCarryTheirOwnFieldsOnly() throws Exception {
        try (HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            java.util.List<String> big = new java.util.ArrayList<>(java.util.List.of(":method", "GET", ":scheme",
                    "http", ":path", "/big?q=1", ":authority", "test", "cookie", "a=1"));
            java.util.List<String> bigNames = new java.util.ArrayList<>(java.util.List.of("host", "cookie"));
            for (int i = 0; i < 30; i++) {
                big.addAll(java.util.List.of("x-big-" + i, i + "-" + "v".repeat(100)));
                bigNames.add("x-big-" + i);
            }
            big.addAll(java.util.List.of("cookie", "b=2", "user-agent", "raw/1", "cookie", "c=3"));
            bigNames.remove("cookie");
            bigNames.addAll(java.util.List.of("user-agent", "cookie"));
            c.headers(1, true, big.toArray(String[]::new));
            answered(c, 1, "b GET /big?q=1");
            c.headers(3, false, ":method", "POST", ":scheme", "http", ":path", "/post", ":authority", "test");
            c.sendData(3, "hello".getBytes(StandardCharsets.US_ASCII), true);
            answered(c, 3, "b POST /post");
            c.headers(5, true, ":method", "GET", ":scheme", "http", ":path", "/small", ":authority", "test",
                    "x-small", "1");
            answered(c, 5, "b GET /small");

            java.util.List<String> added = java.util.List.of("x-forwarded-for", "x-forwarded-proto",
                    "x-forwarded-host", "via", "x-request-id");
            HttpBackend.Request first = b.requests.get(0);
            assertThat(first.version()).isEqualTo("HTTP/1.1");
            bigNames.addAll(added);
            assertThat(first.headers().keySet()).containsExactlyElementsOf(bigNames);
            assertThat(first.all("cookie")).containsExactly("a=1; b=2; c=3");
            assertThat(first.header("x-big-29")).isEqualTo("29-" + "v".repeat(100));
            assertThat(first.header("host")).isEqualTo("test");
            HttpBackend.Request post = b.requests.get(1);
            assertThat(post.headers().keySet()).containsExactlyElementsOf(
                    java.util.stream.Stream.concat(java.util.stream.Stream.of("host", "transfer-encoding"),
                            added.stream()).toList());
            assertThat(post.header("transfer-encoding")).isEqualTo("chunked");
            HttpBackend.Request small = b.requests.get(2);
            assertThat(small.headers().keySet()).containsExactlyElementsOf(
                    java.util.stream.Stream.concat(java.util.stream.Stream.of("host", "x-small"), added.stream())
                            .toList());
            assertThat(small.header("x-forwarded-for")).isEqualTo("127.0.0.1");
            assertThat(small.header("x-forwarded-proto")).isEqualTo("http");
            assertThat(small.header("x-forwarded-host")).isEqualTo("test");
            assertThat(small.header("via")).isEqualTo("1.1 sluice");
            assertThat(small.header("x-request-id")).matches("[0-9a-f]{32}")
                    .isNotEqualTo(first.header("x-request-id"));
        }
    }

    /** Reads stream {@code stream}'s answer: a 200 whose body is {@code body}. */
    private static void answered(RawH2 c, int stream, String body) throws IOException {
        assertThat(c.await(RawH2.HEADERS, stream)).isNotNull();
        RawH2.Frame data = c.await(RawH2.DATA, stream);
        assertThat(data).isNotNull();
        assertThat(new String(data.payload(), StandardCharsets.UTF_8)).isEqualTo(body);
    }
}
