package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** The phase table, and the encoder that answers HEAD requests from the methods its decoder saw. */
class ExchangePhaseTest {

    @Test
    void onlyTheDrawnTransitionsAreAllowed() {
        assertThat(allowedFrom(ExchangePhase.HEAD)).containsExactlyInAnyOrder(ExchangePhase.UPSTREAM,
                ExchangePhase.ANSWERED, ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.UPSTREAM)).containsExactlyInAnyOrder(ExchangePhase.INFORMATIONAL,
                ExchangePhase.SWITCHING, ExchangePhase.RESPONSE, ExchangePhase.ANSWERED, ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.INFORMATIONAL)).containsExactlyInAnyOrder(ExchangePhase.UPSTREAM,
                ExchangePhase.ANSWERED, ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.SWITCHING)).containsExactlyInAnyOrder(ExchangePhase.TUNNEL,
                ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.RESPONSE)).containsExactly(ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.ANSWERED)).containsExactly(ExchangePhase.DONE);
        assertThat(allowedFrom(ExchangePhase.TUNNEL)).isEmpty();
        assertThat(allowedFrom(ExchangePhase.DONE)).isEmpty();
    }

    @Test
    void errorsAreAnsweredOnlyBeforeAFinalHead() {
        assertThat(EnumSet.allOf(ExchangePhase.class).stream().filter(ExchangePhase::canAnswer))
                .containsExactly(ExchangePhase.HEAD, ExchangePhase.UPSTREAM, ExchangePhase.INFORMATIONAL);
    }

    private static EnumSet<ExchangePhase> allowedFrom(ExchangePhase from) {
        EnumSet<ExchangePhase> out = EnumSet.noneOf(ExchangePhase.class);
        for (ExchangePhase p : ExchangePhase.values()) {
            if (from.canBecome(p)) {
                out.add(p);
            }
        }
        return out;
    }

    @Test
    void encoderAnswersPipelinedHeadAndGetInOrderAndInterimResponsesAnswerNothing() {
        HttpFrontCodecs.ResponseEncoder encoder = new HttpFrontCodecs.ResponseEncoder();
        EmbeddedChannel ch = new EmbeddedChannel(
                new HttpFrontCodecs.RequestDecoder(HttpFrontCodecs.strict(new HttpDecoderConfig()), encoder), encoder);
        ch.writeInbound(Unpooled.copiedBuffer("HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
                StandardCharsets.US_ASCII));
        Object o;
        while ((o = ch.readInbound()) != null) {
            io.netty.util.ReferenceCountUtil.release(o);
        }
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        ch.writeOutbound(full("head body"));
        ch.writeOutbound(full("get body"));
        String out = ExchangeHarness.drain(ch);
        assertThat(out).startsWith("HTTP/1.1 100 Continue\r\n\r\n").doesNotContain("head body").endsWith("get body");
        ch.finishAndReleaseAll();
    }

    private static DefaultFullHttpResponse full(String body) {
        ByteBuf b = Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII);
        DefaultFullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, b);
        r.headers().setInt("content-length", b.readableBytes());
        return r;
    }
}
