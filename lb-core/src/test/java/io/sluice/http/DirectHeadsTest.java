package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The encoders' direct way ({@link DirectHeads}: a plain message's head, and a plain response's body, in one
 * buffer of its exact size) against Netty's encoder, message sequences as a connection carries them: what a
 * client's requests become toward the server ({@link BackendCodec.RequestEncoder}) and what servers' responses
 * become toward the client ({@link HttpFrontCodecs.ResponseEncoder}), the same bytes with the direct way on and
 * off, for fixed cases and generated ones (plain, chunked, Content-Length bodies, trailers, HEAD answers, 1xx,
 * 204/205/304, bodies past 64 KiB, odd targets and versions). The direct way is taken exactly for the messages
 * it is meant for.
 */
class DirectHeadsTest {
    private static final java.util.regex.Pattern HEAD_START =
            java.util.regex.Pattern.compile("HTTP/1\\.[01] |[A-Z]+ [^ ]+ HTTP/1\\.[01]\r\n");
    private static final HttpDecoderConfig CONFIG = HttpFrontCodecs.strict(new HttpDecoderConfig());
    private static final String TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
    /** Names whose generated values would change the message's framing or meaning. */
    private static final Set<String> FRAMING = Set.of("content-length", "transfer-encoding", "connection", "upgrade",
            "host", "expect", "te", "trailer", "keep-alive", "proxy-connection");

    private static final List<String> FIXED_REQUESTS = List.of(
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /64?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: h2load\r\nAccept: */*\r\n"
                    + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Latin: caf\u00e9\r\n\r\n",
            "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
            "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            "PUT /z HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            "GET http://a/abs HTTP/1.1\r\nHost: a\r\n\r\n",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            "GET /old HTTP/1.0\r\nHost: a\r\n\r\n",
            "GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n",
            "DELETE /" + "long/".repeat(200) + " HTTP/1.1\r\nHost: a\r\nX-Big: " + "v".repeat(3000) + "\r\n\r\n",
            "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");

    /** A server's responses, with the method each answers. */
    private record Answer(HttpMethod method, String text) {
    }

    private static final List<Answer> FIXED_RESPONSES = List.of(
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n"),
            new Answer(HttpMethod.HEAD, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n"),
            new Answer(HttpMethod.GET, "HTTP/1.1 404 Not Found\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\nServer: s\r\n"
                    + "Content-Length: 3\r\n\r\nnot"),
            new Answer(HttpMethod.GET, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"),
            new Answer(HttpMethod.GET, "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n"),
            new Answer(HttpMethod.GET, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
            new Answer(HttpMethod.GET, "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n."),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 Fine\r\nContent-Length: 4\r\n\r\nfine"),
            new Answer(HttpMethod.GET, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold"),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n" + "b".repeat(70000)),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n" + "c".repeat(65536)),
            new Answer(HttpMethod.GET, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + "d".repeat(4096)),
            new Answer(HttpMethod.GET, "HTTP/1.1 503 Service Unavailable\r\nX-Latin: \u00e9\u00ff\r\nContent-Length: 4\r\n\r\nbusy"));

    @Test
    void fixedRequestsReachTheServerAsThroughNettys() {
        Sent direct = toServer(FIXED_REQUESTS, true);
        Sent netty = toServer(FIXED_REQUESTS, false);
        assertThat(direct.bytes).isEqualTo(netty.bytes);
        // The origin-form ASCII requests without Upgrade or a chunked body: /, /64, HEAD /h, /old, DELETE /long...,
        // /after, and the Content-Length ones, POST /p and PUT /z.
        assertThat(direct.directBuffers).isEqualTo(8);
        assertThat(netty.directBuffers).isZero();
        assertThat(direct.bytes).contains("GET /64?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: h2load\r\n"
                + "Accept: */*\r\nX-Latin: caf\u00e9\r\nx-forwarded-for: 127.0.0.1\r\nvia: 1.1 sluice\r\n\r\n");
    }

    /** As the proxy writes (no one waits on a part's promise): a bodiless request's end is no write at all. */
    @Test
    void aBodilessRequestIsOneBufferWhenNoOneWaitsForItsEnd() {
        for (boolean direct : new boolean[] {true, false}) {
            EmbeddedChannel ch = new EmbeddedChannel(new BackendCodec.RequestEncoder(new ArrayDeque<>(), direct));
            for (Object o : decode(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(), new HttpFrontCodecs.ResponseEncoder()),
                    FIXED_REQUESTS.get(1))) {
                ch.write(o, ch.voidPromise());
            }
            ch.flush();
            assertThat(ch.outboundMessages()).as("direct: %s", direct).hasSize(direct ? 1 : 2);
            assertThat(drain(ch).bytes).startsWith("GET /64?x=1&y=%20 HTTP/1.1\r\n").endsWith("\r\n\r\n");
        }
    }

    @Test
    void fixedResponsesReachTheClientAsThroughNettys() {
        Sent direct = toClient(FIXED_RESPONSES, true);
        Sent netty = toClient(FIXED_RESPONSES, false);
        assertThat(direct.bytes).isEqualTo(netty.bytes);
        // The plain ones answering a GET: 200 ok, 200 empty, 404, the 200 after the 103, 1.0 200, 4096 (65536 is
        // past DIRECT_BODY_MAX: Netty writes it as a slice, no copy; the 503's Latin-1 value is no plain field line
        // for the server's decoder: Netty's objects).
        assertThat(direct.directBuffers).isEqualTo(6);
        assertThat(netty.directBuffers).isZero();
    }

    @Test
    void generatedRequestsReachTheServerAsThroughNettys() {
        int taken = 0;
        for (int seed = 0; seed < 60; seed++) {
            List<String> requests = new ArrayList<>();
            Random rnd = new Random(seed);
            for (int i = 0; i < 25; i++) {
                requests.add(request(rnd));
            }
            Sent direct = toServer(requests, true);
            Sent netty = toServer(requests, false);
            assertThat(direct.bytes).as("seed %d", seed).isEqualTo(netty.bytes);
            taken += direct.directBuffers;
        }
        assertThat(taken).isGreaterThan(60 * 25 / 10); // a fifth to a half of them are plain
    }

    @Test
    void generatedResponsesReachTheClientAsThroughNettys() {
        int taken = 0;
        for (int seed = 0; seed < 60; seed++) {
            List<Answer> answers = new ArrayList<>();
            Random rnd = new Random(seed);
            for (int i = 0; i < 25; i++) {
                answers.add(response(rnd));
            }
            Sent direct = toClient(answers, true);
            Sent netty = toClient(answers, false);
            assertThat(direct.bytes).as("seed %d", seed).isEqualTo(netty.bytes);
            taken += direct.directBuffers;
        }
        assertThat(taken).isGreaterThan(60 * 25 / 10); // a fifth to a half of them are plain
    }

    // Generators.

    /** A client's request: any method, target form, version and framing. */
    static String request(Random rnd) {
        int kind = rnd.nextInt(10);
        String method = kind < 5 ? "GET" : kind == 5 ? "HEAD" : kind == 6 ? "DELETE" : "POST";
        String target = rnd.nextInt(12) == 0 ? "http://h.example/" + path(rnd) : "/" + path(rnd);
        String version = rnd.nextInt(8) == 0 && kind != 8 ? "HTTP/1.0" : "HTTP/1.1"; // no chunked in 1.0
        StringBuilder b = new StringBuilder(method + " " + target + " " + version + "\r\nHost: h.example\r\n");
        fields(rnd, b);
        if (kind == 7) {
            String body = word(rnd, rnd.nextInt(300));
            b.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
        } else if (kind == 8) {
            b.append("Transfer-Encoding: chunked\r\n\r\n");
            for (int c = rnd.nextInt(3); c > 0; c--) {
                String chunk = word(rnd, 1 + rnd.nextInt(50));
                b.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
            }
            b.append("0\r\n").append(rnd.nextBoolean() ? "X-Trailer: t\r\n" : "").append("\r\n");
        } else if (kind == 9) {
            b.append("Content-Length: 0\r\n\r\n");
        } else {
            b.append("\r\n");
        }
        return b.toString();
    }

    private static Answer response(Random rnd) {
        HttpMethod method = rnd.nextInt(8) == 0 ? HttpMethod.HEAD : HttpMethod.GET;
        return new Answer(method, response(rnd, method));
    }

    /** A server's response to {@code method}: interim or not, plain or not, any framing. */
    static String response(Random rnd, HttpMethod method) {
        int[] codes = {200, 200, 200, 201, 204, 205, 206, 301, 304, 404, 500, 503, 299};
        int code = codes[rnd.nextInt(codes.length)];
        String reason = code == 299 ? "Custom"
                : rnd.nextInt(10) == 0 ? "Odd Reason" : io.netty.handler.codec.http.HttpResponseStatus.valueOf(code).reasonPhrase();
        StringBuilder b = new StringBuilder();
        if (rnd.nextInt(10) == 0) {
            b.append("HTTP/1.1 100 Continue\r\n\r\n");
        }
        boolean chunked = code != 204 && code != 304 && rnd.nextInt(5) == 0;
        b.append(rnd.nextInt(10) == 0 && !chunked ? "HTTP/1.0 " : "HTTP/1.1 ").append(code).append(' ').append(reason).append("\r\n");
        fields(rnd, b);
        boolean bodiless = method == HttpMethod.HEAD || code == 204 || code == 304;
        int size = rnd.nextInt(5) == 0 ? 60000 + rnd.nextInt(10000) : rnd.nextInt(200);
        String body = "x".repeat(size);
        if (code == 204) {
            b.append("\r\n");
        } else if (chunked) {
            b.append("Transfer-Encoding: chunked\r\n\r\n");
            if (!bodiless) {
                if (size > 0) {
                    b.append(Integer.toHexString(size)).append("\r\n").append(body).append("\r\n");
                }
                b.append("0\r\n\r\n");
            }
        } else {
            b.append("Content-Length: ").append(code == 205 ? 0 : size).append("\r\n\r\n");
            if (!bodiless && code != 205) {
                b.append(body);
            }
        }
        return b.toString();
    }

    private static void fields(Random rnd, StringBuilder b) {
        for (int n = rnd.nextInt(12); n > 0; n--) {
            String name = word(rnd, 1 + rnd.nextInt(20));
            if (FRAMING.contains(name.toLowerCase(Locale.ROOT))) {
                continue;
            }
            b.append(name).append(':').append(rnd.nextBoolean() ? " " : "").append(value(rnd)).append("\r\n");
        }
    }

    private static String word(Random rnd, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            b.append(TOKEN.charAt(rnd.nextInt(TOKEN.length())));
        }
        return b.toString();
    }

    private static String path(Random rnd) {
        String chars = "abcdefghijklmnopqrstuvwxyz0123456789-._~%/?=&;:@!$'()*+,";
        StringBuilder b = new StringBuilder();
        for (int i = rnd.nextInt(60); i > 0; i--) {
            b.append(chars.charAt(rnd.nextInt(chars.length())));
        }
        return b.toString();
    }

    /** Visible ASCII, spaces and tabs inside, and in some values obs-text (Latin-1 bytes). */
    private static String value(Random rnd) {
        StringBuilder b = new StringBuilder();
        boolean latin1 = rnd.nextInt(6) == 0;
        for (int i = rnd.nextInt(80); i > 0; i--) {
            int k = rnd.nextInt(20);
            b.append(k == 0 && latin1 ? (char) (0x80 + rnd.nextInt(128)) : k == 1 ? ' ' : k == 2 ? '\t' : (char) (0x21 + rnd.nextInt(94)));
        }
        String v = b.toString().strip();
        return v.isEmpty() ? "v" : v;
    }

    // Through the codecs.

    /** The bytes written, and how many buffers went the direct way (exactly sized: it never grows). */
    private record Sent(String bytes, int directBuffers) {
    }

    /** Each request read as a client connection's decoder reads it, edited as the proxy does, then encoded. */
    private static Sent toServer(List<String> requests, boolean direct) {
        EmbeddedChannel out = new EmbeddedChannel(new BackendCodec.RequestEncoder(new ArrayDeque<>(), direct));
        for (String text : requests) {
            for (Object o : decode(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(), new HttpFrontCodecs.ResponseEncoder()),
                    text)) {
                if (o instanceof HttpRequest r) {
                    if (!r.headers().contains("upgrade")) { // the proxy keeps an upgrade's Connection and Upgrade
                        HeaderPolicy.removeHopByHop(r.headers());
                    }
                    r.headers().add("x-forwarded-for", "127.0.0.1");
                    r.headers().add("via", "1.1 sluice");
                }
                out.writeOutbound(o);
            }
        }
        return drain(out);
    }

    /** Each response read as a server connection's decoder reads it, edited as the proxy does, then encoded. */
    private static Sent toClient(List<Answer> answers, boolean direct) {
        HttpFrontCodecs.ResponseEncoder encoder = new HttpFrontCodecs.ResponseEncoder(direct);
        EmbeddedChannel out = new EmbeddedChannel(encoder);
        for (Answer a : answers) {
            ArrayDeque<HttpMethod> sent = new ArrayDeque<>(List.of(a.method()));
            encoder.requested(a.method());
            for (Object o : decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent), a.text())) {
                if (o instanceof HttpMessage m) {
                    HeaderPolicy.removeHopByHop(m.headers());
                    m.headers().add("set-cookie", "sticky=1");
                }
                out.writeOutbound(o);
            }
        }
        return drain(out);
    }

    private static List<Object> decode(io.netty.channel.ChannelHandler decoder, String text) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        List<Object> parts = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            assertThat(((HttpObject) o).decoderResult().isSuccess()).as(text).isTrue();
            parts.add(o);
        }
        ch.finishAndReleaseAll();
        return parts;
    }

    private static Sent drain(EmbeddedChannel ch) {
        StringBuilder b = new StringBuilder();
        int direct = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf buf = (ByteBuf) o;
            String text = buf.toString(StandardCharsets.ISO_8859_1);
            // Netty's head buffers may grow; a body's slice may not, but starts no head.
            if (buf.isReadable() && buf.maxCapacity() == buf.readableBytes() && HEAD_START.matcher(text).lookingAt()) {
                direct++;
            }
            b.append(text);
            ReferenceCountUtil.release(o);
        }
        ch.finishAndReleaseAll();
        return new Sent(b.toString(), direct);
    }
}
