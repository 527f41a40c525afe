package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The ClientHello readers on any bytes: {@link ClientHelloSni} returns a name or null or throws
 * {@link ClientHelloSni.MalformedHello}, nothing else, and leaves the buffer as it found it; {@link SniPeek}, fed
 * the bytes in any chunks, passes every byte on unchanged, tells one result, and leaks nothing. Seeds:
 * {@code ClientHelloFuzzTestInputs/serverName} and {@code .../peek}.
 */
@Tag("fuzz")
class ClientHelloFuzzTest {
    static final int MAX_INPUT = 16 * 1024;

    @FuzzTest(maxDuration = "30s")
    void serverName(byte[] input) {
        if (input.length > MAX_INPUT) {
            return;
        }
        ByteBuf hello = Unpooled.wrappedBuffer(input);
        try {
            String name = ClientHelloSni.serverName(hello);
            if (name != null) {
                assertThat(name).isNotEmpty().hasSizeLessThanOrEqualTo(255).isLowerCase();
            }
        } catch (ClientHelloSni.MalformedHello expected) {
            // refused: the caller closes the connection
        }
        assertThat(hello.readerIndex()).isZero();
        assertThat(hello.refCnt()).isEqualTo(1);
        hello.release();
    }

    private static final class Next extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Object> results = new ArrayList<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            bytes.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SniPeek.Result) {
                results.add(evt);
            }
        }
    }

    /** First byte: the chunk size; then the client's bytes. */
    @FuzzTest(maxDuration = "30s")
    void peek(byte[] input) {
        if (input.length < 1 || input.length > MAX_INPUT) {
            return;
        }
        int chunk = 1 + (input[0] & 0xFF) * 8;
        byte[] client = Arrays.copyOfRange(input, 1, input.length);
        Next next = new Next();
        EmbeddedChannel ch = new EmbeddedChannel(new SniPeek(60_000), next);
        try {
            for (int at = 0; at < client.length && ch.isActive() && ch.pipeline().get(SniPeek.class) != null;
                 at += chunk) {
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(client, at, Math.min(client.length, at + chunk))));
            }
            ch.checkException();
            assertThat(next.results).as("results").hasSizeLessThanOrEqualTo(1);
            if (!next.results.isEmpty() && ch.isActive()) {
                // Decided with the connection open: every byte read so far went on, unchanged and in order.
                byte[] passed = next.bytes.toByteArray();
                assertThat(passed).isEqualTo(Arrays.copyOf(client, passed.length));
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
