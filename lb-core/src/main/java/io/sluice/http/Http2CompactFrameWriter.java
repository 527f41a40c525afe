package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.util.internal.PlatformDependent;
import io.sluice.net.SmallWriteCoalescer;

/**
 * Netty's frame writer, but a HEADERS frame (with its CONTINUATIONs, when the block is larger than a frame) and a
 * small DATA frame go out as one buffer and one write each. Netty's writes the 9-byte frame header and the
 * payload as two buffers, two pipeline writes and two promises under an aggregating one, per frame: a small
 * response on HTTP/2 was four buffers (one a slice of the body), four writes and two aggregators. The bytes on
 * the wire are the same. Everything else (padding, priorities, the other frame types, large DATA, which is
 * written as a slice without a copy) is Netty's.
 *
 * <p>Where the connection's small writes are gathered ({@link SmallWriteCoalescer}, without TLS), those frames are
 * written straight into the buffer it holds: no buffer of their own to allocate, write down the pipeline, copy
 * and release (on a busy HTTP/2 connection of small responses, a few percent of the loop's time).
 */
final class Http2CompactFrameWriter extends DefaultHttp2FrameWriter {
    /** DATA up to this size is copied behind its frame header; larger payloads keep Netty's slices. */
    static final int COPY_LIMIT = 1024;
    private static final int HEADER = Http2CodecUtil.FRAME_HEADER_LENGTH;
    private static final byte END_STREAM = 0x1;
    private static final byte END_HEADERS = 0x4;

    /** Room asked of the coalescer for a HEADERS frame: a typical response head's; the buffer grows if need be. */
    private static final int HEADERS_ROOM = 256;

    private final Http2HeadersEncoder headersEncoder;
    /** The context {@link #sink} was looked up for (one per connection: the writer is the connection's). */
    private ChannelHandlerContext sinkFor;
    private SmallWriteCoalescer sink;

    Http2CompactFrameWriter(Http2HeadersEncoder headersEncoder) {
        super(headersEncoder);
        this.headersEncoder = headersEncoder;
    }

    @Override
    public ChannelFuture writeData(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding,
                                   boolean endStream, ChannelPromise promise) {
        int length = data.readableBytes();
        if (padding != 0 || length > COPY_LIMIT || streamId <= 0) {
            return super.writeData(ctx, streamId, data, padding, endStream, promise);
        }
        ByteBuf frame = null;
        boolean gathered = false;
        int at = 0;
        try {
            frame = gather(ctx, HEADER + length);
            gathered = frame != null;
            if (gathered) {
                at = frame.writerIndex();
            }
            if (gathered && !promise.setUncancellable()) {
                data.release(); // cancelled before it was sent, as the socket's queue would drop it
                return promise;
            }
            if (!gathered) {
                frame = ctx.alloc().buffer(HEADER + length);
            }
            frame.writeMedium(length);
            frame.writeByte(Http2FrameTypes.DATA);
            frame.writeByte(endStream ? END_STREAM : 0);
            frame.writeInt(streamId);
            frame.writeBytes(data, data.readerIndex(), length);
        } catch (Throwable t) {
            if (gathered) {
                frame.writerIndex(at); // no part of a frame stays among the gathered ones
            } else if (frame != null) {
                frame.release();
            }
            data.release();
            promise.tryFailure(t);
            return promise;
        }
        data.release();
        if (gathered) {
            sink.gathered(promise);
            return promise;
        }
        return ctx.write(frame, promise);
    }

    /**
     * The buffer of the connection's {@link SmallWriteCoalescer}, with room for {@code n} bytes, to write a frame
     * into; null when the frame needs a buffer of its own.
     */
    private ByteBuf gather(ChannelHandlerContext ctx, int n) {
        if (sinkFor != ctx) {
            sink = SmallWriteCoalescer.below(ctx);
            sinkFor = ctx;
        }
        return sink == null ? null : sink.room(n);
    }

    /**
     * A HEADERS frame written into the coalescer's buffer at its writer index: gathered there when the block
     * fits one frame; a larger block is taken out again and goes down the pipeline as HEADERS and CONTINUATION
     * frames (after what was held, as the coalescer passes a large buffer).
     */
    private ChannelFuture writeHeadersGathered(ChannelHandlerContext ctx, ByteBuf held, int streamId,
                                               Http2Headers headers, byte flags, ChannelPromise promise) {
        if (!promise.setUncancellable()) {
            return promise; // cancelled before it was sent, as the socket's queue would drop it
        }
        int at = held.writerIndex();
        held.writerIndex(at + HEADER);
        try {
            headersEncoder.encodeHeaders(streamId, headers, held);
            int block = held.writerIndex() - at - HEADER;
            int max = maxFrameSize();
            if (block <= max) {
                header(held, at, block, Http2FrameTypes.HEADERS, (byte) (flags | END_HEADERS), streamId);
                sink.gathered(promise);
                return promise;
            }
            ByteBuf frames = continued(ctx, held, at + HEADER, block, max, flags, streamId);
            held.writerIndex(at);
            return ctx.write(frames, promise);
        } catch (Http2Exception e) {
            held.writerIndex(at);
            promise.tryFailure(e);
            return promise;
        } catch (Throwable t) {
            held.writerIndex(at);
            promise.tryFailure(t);
            PlatformDependent.throwException(t);
            return promise;
        }
    }

    @Override
    public ChannelFuture writeHeaders(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                      boolean endStream, ChannelPromise promise) {
        if (padding != 0 || streamId <= 0) {
            return super.writeHeaders(ctx, streamId, headers, padding, endStream, promise);
        }
        ByteBuf held = gather(ctx, HEADERS_ROOM);
        if (held != null) {
            return writeHeadersGathered(ctx, held, streamId, headers, endStream ? END_STREAM : 0, promise);
        }
        ByteBuf buf = ctx.alloc().buffer();
        try {
            buf.writerIndex(HEADER);
            headersEncoder.encodeHeaders(streamId, headers, buf);
            int block = buf.readableBytes() - HEADER;
            int max = maxFrameSize();
            byte flags = endStream ? END_STREAM : 0;
            if (block <= max) {
                header(buf, 0, block, Http2FrameTypes.HEADERS, (byte) (flags | END_HEADERS), streamId);
                ByteBuf frame = buf;
                buf = null;
                return ctx.write(frame, promise);
            }
            ByteBuf frames = continued(ctx, buf, HEADER, block, max, flags, streamId);
            return ctx.write(frames, promise);
        } catch (Http2Exception e) {
            promise.tryFailure(e);
            return promise;
        } catch (Throwable t) {
            promise.tryFailure(t);
            PlatformDependent.throwException(t);
            return promise;
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }

    /** A block larger than a frame: HEADERS with its first part, then CONTINUATIONs, the last one ending it. */
    private static ByteBuf continued(ChannelHandlerContext ctx, ByteBuf encoded, int from, int block, int max,
                                     byte flags, int streamId) {
        int frames = (block + max - 1) / max;
        ByteBuf out = ctx.alloc().buffer(block + frames * HEADER);
        int left = block;
        boolean first = true;
        while (left > 0) {
            int n = Math.min(left, max);
            left -= n;
            byte type = first ? Http2FrameTypes.HEADERS : Http2FrameTypes.CONTINUATION;
            byte f = (byte) ((first ? flags : 0) | (left == 0 ? END_HEADERS : 0));
            int at = out.writerIndex();
            out.writerIndex(at + HEADER);
            header(out, at, n, type, f, streamId);
            out.writeBytes(encoded, from, n);
            from += n;
            first = false;
        }
        return out;
    }

    private static void header(ByteBuf buf, int at, int length, byte type, byte flags, int streamId) {
        buf.setMedium(at, length);
        buf.setByte(at + 3, type);
        buf.setByte(at + 4, flags);
        buf.setInt(at + 5, streamId);
    }
}
