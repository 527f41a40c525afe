package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.sluice.testing.ClientHellos;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The peek on its own: whatever way the bytes come, the next handler gets every one of them, unchanged and
 * before the result, and nothing is left unreleased (the tests run with paranoid leak detection).
 */
class SniPeekTest {

    /** Keeps what reaches the handler after the peek: bytes (copied and released) and results. */
    private static final class Next extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Object> seen = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            bytes.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
            seen.add("bytes");
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            seen.add(evt);
        }
    }

    private static byte[] record(byte[] handshake, int payload) {
        return ClientHellos.records(handshake, payload);
    }

    private static byte[] hello(String name) throws Exception {
        return ClientHellos.message(ClientHellos.jdk(name));
    }

    private static Next feed(byte[] bytes, int chunk) {
        Next next = new Next();
        EmbeddedChannel ch = new EmbeddedChannel(new SniPeek(60_000), next);
        for (int at = 0; at < bytes.length && ch.pipeline().get(SniPeek.class) != null; at += chunk) {
            ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(bytes, at, Math.min(bytes.length, at + chunk))));
        }
        assertThat(ch.pipeline().get(SniPeek.class)).as("the peek left the pipeline").isNull();
        ch.finishAndReleaseAll();
        return next;
    }

    @Test
    void aHelloFedAByteAtATimeOverTinyRecordsIsReadAndPassedOnWhole() throws Exception {
        byte[] bytes = record(hello("api.example.com"), 9);
        Next next = feed(bytes, 1);
        assertThat(next.bytes.toByteArray()).isEqualTo(bytes);
        assertThat(next.seen).last().isEqualTo(new SniPeek.Result(SniPeek.Outcome.HELLO, "api.example.com"));
        assertThat(next.seen).first().isEqualTo("bytes");
    }

    @Test
    void whatIsNotTlsIsPassedOnAtItsFirstByte() {
        byte[] bytes = "GET / HTTP/1.1\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Next next = feed(bytes, bytes.length);
        assertThat(next.bytes.toByteArray()).isEqualTo(bytes);
        assertThat(next.seen).last().isEqualTo(SniPeek.Result.NOT_TLS);
    }

    @Test
    void anOversizeOrNonHelloHandshakeIsMalformed() {
        Next tooLong = feed(new byte[] {0x16, 3, 1, 0, 4, 1, 0x01, 0, 1}, 9);
        assertThat(tooLong.seen).last().isEqualTo(SniPeek.Result.MALFORMED);
        Next serverHello = feed(new byte[] {0x16, 3, 3, 0, 4, 2, 0, 0, 0}, 9);
        assertThat(serverHello.seen).last().isEqualTo(SniPeek.Result.MALFORMED);
        Next empty = feed(new byte[] {0x16, 3, 1, 0, 0}, 5);
        assertThat(empty.seen).last().isEqualTo(SniPeek.Result.MALFORMED);
    }

    @Test
    void aClientThatStopsHalfWayIsMalformedAndOneThatSentNothingJustClosed() throws Exception {
        byte[] half = Arrays.copyOf(record(hello("a.test"), 16384), 40);
        Next next = new Next();
        EmbeddedChannel ch = new EmbeddedChannel(new SniPeek(60_000), next);
        ch.writeInbound(Unpooled.wrappedBuffer(half));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(next.bytes.toByteArray()).isEqualTo(half);
        assertThat(next.seen).last().isEqualTo(SniPeek.Result.MALFORMED);
        ch.finishAndReleaseAll();

        Next silent = new Next();
        EmbeddedChannel quiet = new EmbeddedChannel(new SniPeek(60_000), silent);
        quiet.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(silent.seen).containsExactly(SniPeek.Result.CLOSED);
        quiet.finishAndReleaseAll();
    }
}
