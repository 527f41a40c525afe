package io.sluice.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sluice.config.Cidr;
import io.sluice.config.ProxyProtocolConfig;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;

/**
 * The PROXY header stage on any bytes, in any chunks, required or optional: no exception escapes, and the
 * connection either closes or goes on with the listener's handlers installed once, having seen only bytes the
 * client sent after the header (all of them with {@code accept: optional} and no header). Seeds:
 * {@code ProxyProtocolFuzzTestInputs/proxyHeader}.
 */
@Tag("fuzz")
class ProxyProtocolFuzzTest {
    static final int MAX_INPUT = 4096;
    private static final InetSocketAddress TRUSTED = new InetSocketAddress("10.0.0.5", 40000);

    private static final class Rest extends ChannelInboundHandlerAdapter {
        int installed;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            bytes.writeBytes(ByteBufUtil.getBytes(b));
            b.release();
        }
    }

    /** First byte: the mode (bit 0: optional) and chunk size (the rest); then the client's bytes. */
    @FuzzTest(maxDuration = "30s")
    void proxyHeader(byte[] input) throws Exception {
        if (input.length < 1 || input.length > MAX_INPUT) {
            return;
        }
        boolean optional = (input[0] & 1) != 0;
        int chunk = 1 + ((input[0] & 0xFF) >>> 1);
        byte[] client = Arrays.copyOfRange(input, 1, input.length);
        ProxyProtocolConfig config = new ProxyProtocolConfig(
                optional ? ProxyProtocolConfig.Accept.OPTIONAL : ProxyProtocolConfig.Accept.TRUE,
                List.of(Cidr.parse("10.0.0.0/8")), Duration.ofSeconds(3));
        Rest rest = new Rest();
        EmbeddedChannel ch = new EmbeddedChannel(DefaultChannelId.newInstance(), false, false) {
            @Override
            protected SocketAddress remoteAddress0() {
                return TRUSTED;
            }
        };
        ProxyProtocolStage.addTo(ch.pipeline(), config, new Admission(new ListenerStats(), 0),
                new ProxyProtocolStats(), c -> {
                    rest.installed++;
                    c.pipeline().addLast("rest", rest);
                });
        ch.register();
        ch.freezeTime();
        try {
            for (int at = 0; at < client.length && ch.isActive(); at += chunk) {
                ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(client, at, Math.min(client.length, at + chunk))));
            }
            ch.runPendingTasks();
            ch.checkException();
            assertThat(rest.installed).as("the listener's handlers installed at most once").isLessThanOrEqualTo(1);
            byte[] passed = rest.bytes.toByteArray();
            if (passed.length > 0) {
                assertThat(rest.installed).isEqualTo(1);
                // What went on is a tail of what the client sent: the header, and only the header, was taken off.
                assertThat(Arrays.copyOfRange(client, client.length - passed.length, client.length))
                        .as("bytes after the header").isEqualTo(passed);
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
