package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fast response parser against Netty's strict decoder: a response it takes reads to the same response
 * (status, version, fields in order, body) and reaches the client byte for byte as Netty's objects would, also
 * after the edits a proxy makes; anything else goes to Netty untouched, so the refusals stay Netty's. The
 * connection's one {@link PlainResponse} is refilled only once no one holds it.
 */
class ResponseHeadParserTest {
    private static final HttpDecoderConfig CONFIG = HttpFrontCodecs.strict(new HttpDecoderConfig());

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nnot",
        "HTTP/1.1 503 Service Unavailable\r\nServer:  x  \r\nX-Odd:a\tb  c\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
                + "Content-Length: 4\r\nConnection: close, X-Drop\r\nX-Drop: 1\r\n\r\nbusy",
        "HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nContent-Length:1\r\n\r\n.",
    })
    void takenResponsesReadAndReachTheClientAsNettysWould(String text) {
        List<HttpObject> fast = decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent(HttpMethod.GET)), text);
        List<HttpObject> netty = decode(new HttpResponseDecoder(CONFIG.clone()), text);
        assertThat(fast).hasSize(1);
        assertThat(fast.get(0)).isInstanceOf(PlainResponse.class);
        PlainResponse f = (PlainResponse) fast.get(0);
        HttpResponse n = (HttpResponse) netty.get(0);
        assertThat(f.status()).isEqualTo(n.status());
        assertThat(f.status().reasonPhrase()).isEqualTo(n.status().reasonPhrase());
        assertThat(f.protocolVersion()).isEqualTo(n.protocolVersion());
        assertThat(f.headers().entries()).isEqualTo(n.headers().entries());
        assertThat(f.content().toString(StandardCharsets.ISO_8859_1)).isEqualTo(body(netty));
        for (HttpResponse r : List.of(f, n)) {
            HeaderPolicy.removeHopByHop(r.headers());
            r.headers().add("Set-Cookie", "sticky=1");
            r.headers().remove("server");
        }
        assertThat(f.headers().entries()).isEqualTo(n.headers().entries());
        assertThat(toClient(List.of(f))).isEqualTo(toClient(netty));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nok",
        "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\rX\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n x\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
        "HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nX-Latin: \u00e9\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
    })
    void otherResponsesAreLeftToNetty(String text) {
        assertNoneFast(decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent(HttpMethod.GET)), text));
    }

    @Test
    void theAnswerToHeadAndAnAnswerToNothingAreNettys() {
        String text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
        assertNoneFast(decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent(HttpMethod.HEAD)), text));
        assertNoneFast(decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent()), text + "ok"));
    }

    @Test
    void theResponseIsRefilledOnlyOnceNoOneHoldsIt() {
        ArrayDeque<HttpMethod> sent = sent(HttpMethod.GET, HttpMethod.GET, HttpMethod.GET, HttpMethod.GET);
        EmbeddedChannel ch = new EmbeddedChannel(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent));
        String ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        PlainResponse first = read(ch, ok);
        first.retain();
        first.release();
        PlainResponse second = read(ch, "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\n!");
        assertThat(second).as("first still held").isNotSameAs(first);
        assertThat(first.status().code()).isEqualTo(200);
        assertThat(first.headers().get("content-length")).isEqualTo("2");
        assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("ok");
        first.release();
        second.release();
        PlainResponse third = read(ch, ok);
        assertThat(third).isSameAs(second);
        assertThat(third.status().code()).isEqualTo(200);
        assertThat(third.headers().entries()).hasSize(1);
        third.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    /**
     * Responses made of pieces that are plain, nearly plain and wrong, in random order (a fixed seed): whenever the
     * fast path takes one, Netty's decoder reads it without error to the same status, fields and body.
     */
    @Test
    void whatTheFastPathTakesNettyReadsTheSame() {
        String[] lines = {"HTTP/1.1 200 OK", "HTTP/1.0 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200  OK",
            "HTTP/1.1 200 OK ", "HTTP/1.1 2000 OK", "HTTP/1.1 204 No Content", "HTTP/1.1 100 Continue", "HTTP/1.1 200"};
        String[] fields = {"Content-Length: 2", "content-length:2", "Content-Length: 02", "Content-Length: 3",
            "Content-Length: -1", "Content-Length: 2 ", "Content-Length: 1, 1", "Transfer-Encoding: chunked",
            "Server: x", "X-A: b c", "X-A:\tb", "X-A : b", " X-A: b", "X-A: \u00ff", "X-A: \u0000", "X-\u00e9: b",
            "Connection: keep-alive", "X-Empty:", ":b", "X-A: b\rc"};
        String[] ends = {"\r\n", "\n", "\r\n\r\n"};
        java.util.Random random = new java.util.Random(20261206);
        int taken = 0;
        for (int i = 0; i < 5000; i++) {
            StringBuilder b = new StringBuilder(lines[random.nextInt(lines.length)]).append("\r\n");
            for (int n = random.nextInt(4); n > 0; n--) {
                b.append(fields[random.nextInt(fields.length)]).append(random.nextInt(10) == 0 ? ends[random.nextInt(3)]
                        : "\r\n");
            }
            b.append("\r\n").append(random.nextBoolean() ? "ok" : "o");
            String text = b.toString();
            List<HttpObject> fast = decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent(HttpMethod.GET)),
                    text);
            List<HttpObject> netty = decode(new HttpResponseDecoder(CONFIG.clone()), text);
            try {
                if (!fast.isEmpty() && fast.get(0) instanceof PlainResponse f) {
                    taken++;
                    HttpResponse n = (HttpResponse) netty.get(0);
                    assertThat(n.decoderResult().isSuccess()).as(text).isTrue();
                    assertThat(netty.get(netty.size() - 1)).as(text).isInstanceOf(LastHttpContent.class);
                    assertThat(f.status()).as(text).isEqualTo(n.status());
                    assertThat(f.protocolVersion()).as(text).isEqualTo(n.protocolVersion());
                    assertThat(f.headers().entries()).as(text).isEqualTo(n.headers().entries());
                    assertThat(f.content().toString(StandardCharsets.ISO_8859_1)).as(text).isEqualTo(body(netty));
                }
            } finally {
                fast.forEach(ReferenceCountUtil::release);
                netty.forEach(ReferenceCountUtil::release);
            }
        }
        assertThat(taken).as("responses the fast path took").isGreaterThan(40);
    }

    /** HPACK's dynamic table, for one, keeps the names it is given beyond the response. */
    @Test
    void namesOfAReusedHeadOutliveIt() {
        ArrayDeque<HttpMethod> sent = sent(HttpMethod.GET, HttpMethod.GET);
        EmbeddedChannel ch = new EmbeddedChannel(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent));
        PlainResponse first = read(ch, "HTTP/1.1 200 OK\r\nx-custom: 1\r\nContent-Length: 0\r\n\r\n");
        CharSequence name = first.headers().iteratorCharSequence().next().getKey();
        first.release();
        PlainResponse second = read(ch, "HTTP/1.1 200 OK\r\nx-oth3r!: 2\r\nContent-Length: 0\r\n\r\n");
        assertThat(second).isSameAs(first);
        assertThat(name.toString()).isEqualTo("x-custom");
        second.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void afterAChunkedResponseTheNextPlainOneIsReadFastButNeverAfterA101() {
        ArrayDeque<HttpMethod> sent = sent(HttpMethod.GET, HttpMethod.GET);
        List<HttpObject> out = decode(new BackendCodec.ResponseDecoder(CONFIG.clone(), sent),
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertThat(out.get(out.size() - 1)).isInstanceOf(PlainResponse.class);
        assertThat(sent).isEmpty();
        out.forEach(ReferenceCountUtil::release);
        List<HttpObject> upgraded = decode(new BackendCodec.ResponseDecoder(CONFIG.clone(),
                sent(HttpMethod.GET, HttpMethod.GET)), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                + "Connection: upgrade\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assertNoneFast(upgraded);
    }

    private static void assertNoneFast(List<HttpObject> out) {
        try {
            assertThat(out).noneMatch(o -> o instanceof PlainResponse);
        } finally {
            out.forEach(ReferenceCountUtil::release);
        }
    }

    private static ArrayDeque<HttpMethod> sent(HttpMethod... methods) {
        return new ArrayDeque<>(List.of(methods));
    }

    private static PlainResponse read(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        return ch.readInbound();
    }

    /**
     * The messages the decoder makes of {@code text}, in one read (bytes passed on after a 101 are dropped);
     * the caller releases them.
     */
    private static List<HttpObject> decode(io.netty.channel.ChannelHandler decoder, String text) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        List<HttpObject> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            if (o instanceof HttpObject h) {
                out.add(h);
            } else {
                ReferenceCountUtil.release(o);
            }
        }
        ch.finishAndReleaseAll();
        return out;
    }

    private static String body(List<HttpObject> parts) {
        StringBuilder b = new StringBuilder();
        for (HttpObject o : parts) {
            if (o instanceof HttpContent c) {
                b.append(c.content().toString(StandardCharsets.ISO_8859_1));
            }
        }
        return b.toString();
    }

    /** What the client's encoder writes for these parts (released by it). */
    private static String toClient(List<HttpObject> parts) {
        HttpFrontCodecs.ResponseEncoder encoder = new HttpFrontCodecs.ResponseEncoder();
        encoder.requested(HttpMethod.GET);
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        for (HttpObject o : parts) {
            ch.writeOutbound(o);
        }
        StringBuilder b = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            b.append(((ByteBuf) o).toString(StandardCharsets.ISO_8859_1));
            ReferenceCountUtil.release(o);
        }
        ch.finishAndReleaseAll();
        return b.toString();
    }
}
