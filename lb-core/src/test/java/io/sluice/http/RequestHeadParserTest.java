package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
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
 * The fast head parser against Netty's strict decoder: a head it takes reads to the same request (method,
 * target, version, fields in order) and is forwarded byte for byte as Netty's encoder would write it, also after
 * the edits a proxy makes; a head it declines goes to Netty untouched, so the refusals stay Netty's.
 */
class RequestHeadParserTest {
    private static final HttpDecoderConfig CONFIG = HttpFrontCodecs.strict(new HttpDecoderConfig())
            .setMaxInitialLineLength(8192).setMaxHeaderSize(8192);

    @ParameterizedTest
    @ValueSource(strings = {
        "GET /bench HTTP/1.1\r\nHost: bench\r\n\r\n",
        "GET /a?b=c HTTP/1.0\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
        "DELETE /x HTTP/1.1\r\nhost:   x  \r\nX-Odd-Name:a\tb  c\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\n\r\n",
        "GET http://example.com/p HTTP/1.1\r\nHost: other\r\n\r\n",
    })
    void takenHeadsReadAndForwardAsNettysWould(String text) {
        HttpRequest fast = decode(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(),
                new HttpFrontCodecs.ResponseEncoder()), text);
        HttpRequest netty = decode(new HttpRequestDecoder(CONFIG.clone()), text);
        assertThat(fast.headers() instanceof HeadFields f && f.overHeadBytes()).as("fast path taken").isTrue();
        assertThat(fast.method()).isEqualTo(netty.method());
        assertThat(fast.uri()).isEqualTo(netty.uri());
        assertThat(fast.protocolVersion()).isEqualTo(netty.protocolVersion());
        assertThat(fast.headers().entries()).isEqualTo(netty.headers().entries());
        assertThat(encode(fast)).isEqualTo(encode(netty));
        for (HttpRequest r : List.of(fast, netty)) {
            HeaderPolicy.removeHopByHop(r.headers());
            r.headers().set(HeaderPolicy.X_FORWARDED_FOR, "10.0.0.1");
            r.headers().add("X-Added", "v");
            r.headers().remove("cookie");
        }
        assertThat(fast.headers().entries()).isEqualTo(netty.headers().entries());
        assertThat(encode(fast)).isEqualTo(encode(netty));
        assertThat(encode(fast)).isEqualTo(encode(copyToNettyTable(netty)));
    }

    /** The same request with Netty's own header table: what Netty's encoder writes for it. */
    private static HttpRequest copyToNettyTable(HttpRequest r) {
        io.netty.handler.codec.http.DefaultHttpRequest copy = new io.netty.handler.codec.http.DefaultHttpRequest(
                r.protocolVersion(), r.method(), r.uri());
        copy.headers().set(r.headers());
        return copy;
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n",
        "GET / HTTP/1.1\r\nX-Empty:\r\nHost: x\r\n\r\n",
        "GET /\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: \u00e9\r\n\r\n",
        "BREW / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n",
    })
    void otherHeadsAreLeftToNetty(String text) {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(),
                new HttpFrontCodecs.ResponseEncoder()));
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        Object o;
        while ((o = ch.readInbound()) != null) {
            if (o instanceof HttpRequest r) {
                assertThat(r.headers() instanceof HeadFields f && f.overHeadBytes()).as("fast path taken").isFalse();
            }
            ReferenceCountUtil.release(o);
        }
        ch.finishAndReleaseAll();
    }

    /** Only the exchange that had it gives it back; a pipelined request behind a lent one gets its own. */
    @Test
    void theRequestIsRefilledOnlyOnceItsExchangeGaveItBack() {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(),
                new HttpFrontCodecs.ResponseEncoder()));
        ch.writeInbound(Unpooled.copiedBuffer("GET /1 HTTP/1.1\r\nx-custom: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n",
                StandardCharsets.ISO_8859_1));
        PlainRequest first = next(ch);
        PlainRequest second = next(ch);
        assertThat(second).isNotSameAs(first);
        CharSequence name = first.headers().iteratorCharSequence().next().getKey();
        assertThat(first.uri()).isEqualTo("/1");
        first.giveBack();
        assertThat(second.uri()).isEqualTo("/2");
        second.giveBack();
        ch.writeInbound(Unpooled.copiedBuffer("HEAD /3 HTTP/1.0\r\nX-Other: c\r\n\r\n", StandardCharsets.ISO_8859_1));
        PlainRequest third = next(ch);
        assertThat(third).isSameAs(second);
        assertThat(third.uri()).isEqualTo("/3");
        assertThat(third.method()).isEqualTo(io.netty.handler.codec.http.HttpMethod.HEAD);
        assertThat(third.headers().entries()).hasSize(1);
        assertThat(third.headers().get("x-other")).isEqualTo("c");
        assertThat(name.toString()).as("a name outlives its head").isEqualTo("x-custom");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    /**
     * Netty's decoder is made only when a message needs it, after plain heads the fast parser took: what it
     * decodes from then on, a request cut short by the end of input included, is what a decoder that had been
     * there from the start gives.
     */
    @ParameterizedTest
    @ValueSource(strings = {
        "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /c HTTP/1.1\r\n",
        "GET /b HTTP/1.1\r\nHost: x\r\n",
        "GET /b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET /b HTTP/1.1\r\nHost: x\r\n y\r\n\r\n",
    })
    void nettysDecoderMadeLateDecodesAsFromTheStart(String rest) {
        String plain = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        List<String> late = decodeAll(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(),
                new HttpFrontCodecs.ResponseEncoder()), plain, rest);
        assertThat(late.get(0)).as("the plain head took the fast path").startsWith("fast ");
        List<String> reference = new ArrayList<>(decodeAll(new HttpRequestDecoder(CONFIG.clone()), plain, rest));
        reference.set(0, "fast " + reference.get(0));
        if (rest.contains("\n y")) {
            // The one refusal that is Sluice's own, before Netty's decoder sees the head.
            assertThat(late.get(2)).contains("ObsFoldException");
        } else {
            assertThat(late).isEqualTo(reference);
        }
    }

    /** Each message as text, the input written in two pieces and then ended (as a client's close ends it). */
    private static List<String> decodeAll(io.netty.channel.ChannelHandler decoder, String first, String second) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.copiedBuffer(first, StandardCharsets.ISO_8859_1));
        ch.writeInbound(Unpooled.copiedBuffer(second, StandardCharsets.ISO_8859_1));
        ch.finish();
        List<String> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            String result = o instanceof io.netty.handler.codec.DecoderResultProvider p && p.decoderResult().isFailure()
                    ? " failed: " + p.decoderResult().cause().getClass().getSimpleName() : "";
            if (o instanceof HttpRequest r) {
                boolean fast = r.headers() instanceof HeadFields f && f.overHeadBytes();
                out.add((fast ? "fast " : "") + r.method() + " " + r.uri() + " " + r.headers().entries() + result);
            } else if (o instanceof io.netty.handler.codec.http.HttpContent c) {
                out.add((c instanceof LastHttpContent ? "last " : "content ")
                        + c.content().toString(StandardCharsets.ISO_8859_1) + result);
            }
            ReferenceCountUtil.release(o);
        }
        return out;
    }

    private static PlainRequest next(EmbeddedChannel ch) {
        PlainRequest r = ch.readInbound();
        assertThat((Object) ch.readInbound()).isInstanceOf(LastHttpContent.class);
        return r;
    }

    private static HttpRequest decode(io.netty.channel.ChannelHandler decoder, String text) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        HttpRequest r = ch.readInbound();
        Object end = ch.readInbound();
        assertThat(end).isInstanceOf(LastHttpContent.class);
        ReferenceCountUtil.release(end);
        assertThat(r.decoderResult().isSuccess()).as("%s", r.decoderResult()).isTrue();
        ch.finishAndReleaseAll();
        return r;
    }

    private static String encode(HttpRequest r) {
        return RequestEncoderTest.encode(new BackendCodec.RequestEncoder(new ArrayDeque<>()), r);
    }
}
