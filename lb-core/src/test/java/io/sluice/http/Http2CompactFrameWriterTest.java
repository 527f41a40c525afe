package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2FrameWriter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The compact writer puts the same bytes on the wire as Netty's, frame for frame, in fewer buffers. */
class Http2CompactFrameWriterTest {

    /** The bytes a writer wrote for {@code writes}, and how many buffers it wrote them in. */
    private record Wire(String hex, int buffers) {
    }

    private static Wire wire(Http2FrameWriter writer, BiConsumer<Http2FrameWriter, ChannelHandlerContext> writes) {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().firstContext();
        writes.accept(writer, ctx);
        ch.flush();
        ByteBuf all = Unpooled.buffer();
        int buffers = 0;
        for (ByteBuf b; (b = ch.readOutbound()) != null; buffers++) {
            all.writeBytes(b);
            b.release();
        }
        String hex = ByteBufUtil.hexDump(all);
        all.release();
        ch.finishAndReleaseAll();
        return new Wire(hex, buffers);
    }

    private static void assertSameBytes(BiConsumer<Http2FrameWriter, ChannelHandlerContext> writes, int buffers) {
        Wire netty = wire(new DefaultHttp2FrameWriter(new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE)),
                writes);
        Wire ours = wire(new Http2CompactFrameWriter(new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE)),
                writes);
        assertThat(ours.hex()).isEqualTo(netty.hex());
        assertThat(ours.buffers()).isEqualTo(buffers);
    }

    private static Http2Headers head(int valueLength) {
        return new DefaultHttp2Headers().status("200").add("content-type", "text/plain")
                .add("x-big", "v".repeat(valueLength)).add("via", "1.1 sluice");
    }

    @Test
    void headersFramesAreNettysInOneBuffer() {
        for (boolean end : new boolean[] {false, true}) {
            // Written twice: the second head is mostly HPACK's dynamic table, as on a busy connection.
            assertSameBytes((w, ctx) -> {
                w.writeHeaders(ctx, 1, head(10), 0, end, ctx.newPromise());
                w.writeHeaders(ctx, 3, head(10), 0, end, ctx.newPromise());
            }, 2);
        }
    }

    @Test
    void aHeadLargerThanAFrameGoesOnInContinuationFrames() {
        // 16 KiB frames by default: one CONTINUATION for 20,000 bytes, two for 40,000.
        for (int size : new int[] {16_000, 20_000, 40_000}) {
            for (boolean end : new boolean[] {false, true}) {
                assertSameBytes((w, ctx) -> w.writeHeaders(ctx, 5, head(size), 0, end, ctx.newPromise()), 1);
            }
        }
    }

    @Test
    void smallDataIsCopiedBehindItsFrameHeaderLargerKeepsNettysSlices() {
        for (int size : new int[] {0, 1, 64, Http2CompactFrameWriter.COPY_LIMIT}) {
            for (boolean end : new boolean[] {false, true}) {
                assertSameBytes((w, ctx) -> w.writeData(ctx, 7, Unpooled.wrappedBuffer(new byte[size]), 0, end,
                        ctx.newPromise()), 1);
            }
        }
        assertSameBytes((w, ctx) -> w.writeData(ctx, 7,
                Unpooled.wrappedBuffer(new byte[Http2CompactFrameWriter.COPY_LIMIT + 1]), 0, true, ctx.newPromise()), 2);
        // Padded: Netty's own.
        assertSameBytes((w, ctx) -> w.writeData(ctx, 7, Unpooled.wrappedBuffer(new byte[10]), 5, true,
                ctx.newPromise()), 3);
    }
}
