package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server connection's request encoder ({@link BackendCodec.RequestEncoder}: the request line and a
 * {@link HeadFields} table each spelled into a scratch array and copied once) against Netty's own encoder with
 * Netty's header table: the same bytes for every target (origin-form ASCII on the quick way; empty, absolute, '*'
 * and non-ASCII ones as Netty writes them), every kind of value (strings, {@link AsciiString}s, a request id,
 * Latin-1 and wider characters), and heads longer than the scratch array's first size. And the table's
 * {@code containsValue}, which the encoder and the exchange ask, answers as Netty's.
 */
class RequestEncoderTest {
    @ParameterizedTest
    @ValueSource(strings = {"/", "/a?b=c", "/x/%20y", "", "*", "http://example.com", "http://example.com?q=1",
        "http://example.com/p", "/caf\u00e9", "/\u4e2d", "/long"})
    void theRequestLineIsNettys(String given) {
        String target = given.equals("/long") ? "/" + "long/".repeat(300) : given; // beyond the scratch's first size
        for (HttpMethod m : List.of(HttpMethod.GET, HttpMethod.OPTIONS, HttpMethod.valueOf("BREW"))) {
            for (HttpVersion v : List.of(HttpVersion.HTTP_1_1, HttpVersion.HTTP_1_0)) {
                HttpRequest ours = new DefaultHttpRequest(v, m, target, new HeadFields(null, 1));
                ours.headers().add("Host", "h");
                assertThat(ours(ours)).as(m + " " + target + " " + v).isEqualTo(nettys(ours));
            }
        }
    }

    @Test
    void everyKindOfValueIsWrittenAsNettyWrites() {
        HeadFields f = new HeadFields(null, 2);
        f.add("Host", "example.com:8080");
        f.add(AsciiString.of("user-agent"), AsciiString.of("h2load nghttp2/1.52.0"));
        f.add("X-Latin", "caf\u00e9 \u00ff");
        f.add("X-Wide", "\u4e2d\u6587 and \u20ac");
        f.add("X-Empty", "");
        f.add("X-Builder", new StringBuilder("built"));
        f.addOwn(HeaderPolicy.X_REQUEST_ID, RequestId.random());
        for (int i = 0; i < 40; i++) {
            f.add("x-many-" + i, "v".repeat(i * 3));
        }
        HttpRequest ours = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/p", f);
        String bytes = ours(ours);
        assertThat(bytes.length()).isGreaterThan(2048);
        assertThat(bytes).isEqualTo(nettys(ours));
        assertThat(bytes).contains("X-Latin: caf\u00e9 \u00ff\r\n", "X-Wide: ?? and ?\r\n", "X-Empty: \r\n");
    }

    @Test
    void containsValueAnswersAsNettys() {
        // A value may not begin with whitespace (the table refuses it, as Netty's does), but its elements may.
        String[] values = {"chunked", "chunked \t", "Chunked", "gzip, chunked", "gzip,chunked,", "chunked,",
            ",chunked", "a, ,chunked", "", ",", "chunkedx", "xchunked", "gzip , Chunked\t", "a,\tchunked",
            "chunk ed", "gzip,, chunked", "a,b", "trailers, chunked, close", "x,  close  ,y"};
        String[] expected = {"chunked", "close", "trailers", "gzip"};
        for (String v : values) {
            for (String v2 : new String[] {null, "close", "x"}) {
                HeadFields ours = new HeadFields(null, 2);
                HttpHeaders nettys = new DefaultHttpHeaders();
                ours.add("Other", "chunked");
                nettys.add("Other", "chunked");
                ours.add("Transfer-Encoding", v);
                nettys.add("Transfer-Encoding", v);
                if (v2 != null) {
                    ours.add("transfer-encoding", v2);
                    nettys.add("transfer-encoding", v2);
                }
                for (String e : expected) {
                    for (boolean ignoreCase : new boolean[] {true, false}) {
                        assertThat(ours.containsValue("transfer-encoding", e, ignoreCase))
                                .as("[%s] [%s] has %s, ignoring case: %s", v, v2, e, ignoreCase)
                                .isEqualTo(nettys.containsValue("transfer-encoding", e, ignoreCase));
                    }
                }
            }
        }
        HeadFields asciiValues = new HeadFields(null, 1);
        asciiValues.add(AsciiString.of("te"), AsciiString.of("trailers"));
        assertThat(asciiValues.containsValue("TE", "Trailers", true)).isTrue();
        assertThat(asciiValues.containsValue("TE", "Trailers", false)).isFalse();
    }

    private static String ours(HttpRequest r) {
        return encode(new BackendCodec.RequestEncoder(new ArrayDeque<>()), r);
    }

    /** The same request with Netty's header table, through Netty's encoder. */
    private static String nettys(HttpRequest r) {
        DefaultHttpRequest copy = new DefaultHttpRequest(r.protocolVersion(), r.method(), r.uri());
        copy.headers().set(r.headers());
        return encode(new HttpRequestEncoder(), copy);
    }

    /** What {@code encoder} writes for {@code r} and its end, as text. */
    static String encode(ChannelHandler encoder, HttpRequest r) {
        EmbeddedChannel ch = new EmbeddedChannel(encoder);
        ch.writeOutbound(r, LastHttpContent.EMPTY_LAST_CONTENT);
        List<String> parts = new ArrayList<>();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            parts.add(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        ch.finishAndReleaseAll();
        return String.join("", parts);
    }
}
