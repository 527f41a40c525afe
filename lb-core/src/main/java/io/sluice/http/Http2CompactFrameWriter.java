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

/**
 * Netty's frame writer, but a HEADERS frame (with its CONTINUATIONs, when the block is larger than a frame) and a
 * small DATA frame go out as one buffer and one write each. Netty's writes the 9-byte frame header and the
 * payload as two buffers, two pipeline writes and two promises under an aggregating one, per frame: a small
 * response on HTTP/2 was four buffers (one a slice of the body), four writes and two aggregators. The bytes on
 * the wire are the same. Everything else (padding, priorities, the other frame types, large DATA, which is
 * written as a slice without a copy) is Netty's.
 */
final class Http2CompactFrameWriter extends DefaultHttp2FrameWriter {
    /** DATA up to this size is copied behind its frame header; larger payloads keep Netty's slices. */
    static final int COPY_LIMIT = 1024;
    private static final int HEADER = Http2CodecUtil.FRAME_HEADER_LENGTH;
    private static final byte END_STREAM = 0x1;
    private static final byte END_HEADERS = 0x4;

    private final Http2HeadersEncoder headersEncoder;

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
        try {
            frame = ctx.alloc().buffer(HEADER + length);
            frame.writeMedium(length);
            frame.writeByte(Http2FrameTypes.DATA);
            frame.writeByte(endStream ? END_STREAM : 0);
            frame.writeInt(streamId);
            frame.writeBytes(data, data.readerIndex(), length);
        } catch (Throwable t) {
            if (frame != null) {
                frame.release();
            }
            data.release();
            promise.tryFailure(t);
            return promise;
        }
        data.release();
        return ctx.write(frame, promise);
    }

    @Override
    public ChannelFuture writeHeaders(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                                      boolean endStream, ChannelPromise promise) {
        if (padding != 0 || streamId <= 0) {
            return super.writeHeaders(ctx, streamId, headers, padding, endStream, promise);
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
            ByteBuf frames = continued(ctx, buf, block, max, flags, streamId);
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
    private static ByteBuf continued(ChannelHandlerContext ctx, ByteBuf encoded, int block, int max, byte flags,
                                     int streamId) {
        int frames = (block + max - 1) / max;
        ByteBuf out = ctx.alloc().buffer(block + frames * HEADER);
        int from = HEADER;
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
