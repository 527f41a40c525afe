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
import io.netty.handler.flush.FlushConsolidationHandler;
import io.sluice.net.SmallWriteCoalescer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The compact writer puts the same bytes on the wire as Netty's, frame for frame, in fewer buffers. */
class Http2CompactFrameWriterTest {

    /** The bytes a writer wrote for {@code writes}, and how many buffers it wrote them in. */
    private record Wire(String hex, int buffers) {
    }

    private static Wire wire(Http2FrameWriter writer, BiConsumer<Http2FrameWriter, ChannelHandlerContext> writes) {
        return wire(writer, writes, false);
    }

    /**
     * With {@code gathering}, the writer's handler sits behind a {@link SmallWriteCoalescer} and Netty's flush
     * consolidation, as on an HTTP/2 connection without TLS.
     */
    private static Wire wire(Http2FrameWriter writer, BiConsumer<Http2FrameWriter, ChannelHandlerContext> writes,
                             boolean gathering) {
        EmbeddedChannel ch = new EmbeddedChannel();
        if (gathering) {
            ch.pipeline().addLast(new SmallWriteCoalescer(1024, 16 * 1024),
                    new FlushConsolidationHandler(256, true));
        }
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().lastContext();
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

    /** The same bytes as Netty's writer behind a coalescer, in {@code buffers} buffers. */
    private static void assertSameBytesGathered(BiConsumer<Http2FrameWriter, ChannelHandlerContext> writes,
                                                int buffers) {
        Wire netty = wire(new DefaultHttp2FrameWriter(new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE)),
                writes, true);
        Wire ours = wire(new Http2CompactFrameWriter(new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE)),
                writes, true);
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

    @Test
    void behindACoalescerSmallFramesAreWrittenIntoItsBufferInOrderWithTheRest() {
        // A response each for three streams, then a head too large for one frame, a large DATA, a small one:
        // the gathered frames, then the large ones as they are, in the order written.
        assertSameBytesGathered((w, ctx) -> {
            for (int stream = 1; stream <= 5; stream += 2) {
                w.writeHeaders(ctx, stream, head(10), 0, false, ctx.newPromise());
                w.writeData(ctx, stream, Unpooled.wrappedBuffer(new byte[64]), 0, true, ctx.newPromise());
            }
            w.writeHeaders(ctx, 7, head(20_000), 0, false, ctx.newPromise());
            w.writeData(ctx, 7, Unpooled.wrappedBuffer(new byte[Http2CompactFrameWriter.COPY_LIMIT + 1]), 0, false,
                    ctx.newPromise());
            w.writeData(ctx, 7, Unpooled.wrappedBuffer(new byte[3]), 0, true, ctx.newPromise());
            w.writeHeaders(ctx, 9, head(10), 0, true, ctx.newPromise());
        }, 5);
    }

    @Test
    void aGatheredFramesPromiseCompletesWithTheWriteThatCarriesIt() {
        EmbeddedChannel ch = new EmbeddedChannel();
        int[] allocations = {0};
        ch.config().setAllocator(new io.netty.buffer.AbstractByteBufAllocator(false) {
            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                allocations[0]++;
                return io.netty.buffer.UnpooledByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                allocations[0]++;
                return io.netty.buffer.UnpooledByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        });
        ch.pipeline().addLast(new SmallWriteCoalescer(1024, 16 * 1024), new FlushConsolidationHandler(256, true),
                new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().lastContext();
        assertThat(SmallWriteCoalescer.below(ctx)).isNotNull();
        Http2CompactFrameWriter w = new Http2CompactFrameWriter(
                new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE));
        List<io.netty.channel.ChannelPromise> promises = new ArrayList<>();
        promises.add(ctx.newPromise());
        w.writeHeaders(ctx, 1, head(10), 0, false, promises.get(0));
        promises.add(ctx.newPromise());
        w.writeData(ctx, 1, Unpooled.wrappedBuffer(new byte[64]), 0, true, promises.get(1));
        io.netty.channel.ChannelPromise cancelled = ctx.newPromise();
        cancelled.cancel(false);
        ByteBuf dropped = Unpooled.wrappedBuffer(new byte[8]);
        w.writeData(ctx, 3, dropped, 0, true, cancelled);
        assertThat(dropped.refCnt()).isZero();
        assertThat(allocations[0]).as("the coalescer's buffer only, no frame of its own").isEqualTo(1);
        assertThat(promises).noneMatch(p -> p.isDone());
        ch.flush();
        assertThat(promises).allMatch(p -> p.isSuccess());
        ByteBuf out = ch.readOutbound();
        assertThat(out.readableBytes()).isEqualTo(wire(w2(), (x, c) -> {
            x.writeHeaders(c, 1, head(10), 0, false, c.newPromise());
            x.writeData(c, 1, Unpooled.wrappedBuffer(new byte[64]), 0, true, c.newPromise());
        }).hex().length() / 2);
        out.release();
        assertThat((Object) ch.readOutbound()).isNull();
        ch.finishAndReleaseAll();
    }

    @Test
    void aHandlerBetweenTheWriterAndTheCoalescerKeepsFramesInBuffersOfTheirOwn() {
        EmbeddedChannel ch = new EmbeddedChannel();
        List<Object> seen = new ArrayList<>();
        ch.pipeline().addLast(new SmallWriteCoalescer(1024, 16 * 1024), new io.netty.channel.ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext c, Object msg, io.netty.channel.ChannelPromise promise) {
                seen.add(msg);
                c.write(msg, promise);
            }
        }, new ChannelInboundHandlerAdapter());
        ChannelHandlerContext ctx = ch.pipeline().lastContext();
        assertThat(SmallWriteCoalescer.below(ctx)).isNull();
        Http2CompactFrameWriter w = w2();
        w.writeHeaders(ctx, 1, head(10), 0, false, ctx.newPromise());
        w.writeData(ctx, 1, Unpooled.wrappedBuffer(new byte[64]), 0, true, ctx.newPromise());
        assertThat(seen).hasSize(2);
        ch.flush();
        ch.finishAndReleaseAll();
    }

    private static Http2CompactFrameWriter w2() {
        return new Http2CompactFrameWriter(new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE));
    }
}
