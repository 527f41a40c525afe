package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * {@link HandshakeTurn} passes every read on unchanged and stays only while the handshake is under way:
 * {@link HandshakeObserver} takes it out with itself on success, on a failed handshake and on a failed SNI stage
 * (the transport here is Netty's embedded one, where the early submission has no ring and does nothing; the ring
 * side is {@code io.sluice.net.EarlySubmitTest}).
 */
class HandshakeTurnTest {
    private final TlsStats stats = new TlsStats();

    /** Stands for the SNI and TLS handlers: takes the reads. */
    private static final class Engine extends ChannelInboundHandlerAdapter {
        final StringBuilder read = new StringBuilder();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            read.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
    }

    private EmbeddedChannel connection(Engine engine) {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.pipeline().addLast(HandshakeTurn.NAME, new HandshakeTurn());
        ch.pipeline().addLast("tls", engine);
        ch.pipeline().addLast("tls-handshake", new HandshakeObserver("web", stats));
        return ch;
    }

    @Test
    void readsPassThroughWhileTheHandshakeIsUnderWay() {
        Engine engine = new Engine();
        EmbeddedChannel ch = connection(engine);
        ch.writeInbound(Unpooled.copiedBuffer("hello ", StandardCharsets.US_ASCII));
        ch.writeInbound(Unpooled.copiedBuffer("finished", StandardCharsets.US_ASCII));
        assertThat(engine.read).hasToString("hello finished");
        assertThat(ch.pipeline().names()).contains(HandshakeTurn.NAME, "tls-handshake");
        ch.finishAndReleaseAll();
    }

    @Test
    void itLeavesWithTheObserverWhenTheHandshakeSucceeds() {
        EmbeddedChannel ch = connection(new Engine());
        ch.pipeline().fireUserEventTriggered(SslHandshakeCompletionEvent.SUCCESS);
        assertThat(ch.pipeline().names()).doesNotContain(HandshakeTurn.NAME, "tls-handshake").contains("tls");
        ch.finishAndReleaseAll();
    }

    @Test
    void itLeavesWhenTheHandshakeFails() {
        EmbeddedChannel ch = connection(new Engine());
        ch.pipeline().fireUserEventTriggered(new SslHandshakeCompletionEvent(new SSLHandshakeException("bad")));
        assertThat(ch.pipeline().names()).doesNotContain(HandshakeTurn.NAME, "tls-handshake");
        ch.finishAndReleaseAll();
    }

    @Test
    void itLeavesWhenNoClientHelloCame() {
        EmbeddedChannel ch = connection(new Engine());
        ch.pipeline().fireUserEventTriggered(new SniCompletionEvent(new SSLHandshakeException("not TLS")));
        assertThat(ch.pipeline().names()).doesNotContain(HandshakeTurn.NAME, "tls-handshake");
        ch.finishAndReleaseAll();
    }
}
