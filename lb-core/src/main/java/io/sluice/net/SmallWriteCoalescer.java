package io.sluice.net;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.Map;

/**
 * Copies the small buffers written between two flushes into one, so that the socket's outbound queue gets one
 * entry for them instead of one each. An HTTP/2 connection writes every frame as buffers of its own (a HEADERS
 * frame, a DATA frame's 9-byte header, its payload), each with a promise: with 32 small responses per flush, the
 * entries (Netty's {@code ChannelOutboundBuffer}: an entry object, a promise to mark uncancellable, an iovec,
 * a release and a promise notification after the write) cost more than the bytes, about a tenth of the event
 * loop's time. Copying a few hundred bytes costs less than an entry; bigger buffers pass as they are, after what
 * is held (the order on the wire is the order of the writes).
 *
 * <p>The promises of the copied buffers complete when the write that carries their bytes does. What is held
 * goes out at the next flush, before a bigger buffer, once {@link #holdLimit} bytes are held, and before a close;
 * it is released if the channel ends first. Goes right before (nearer the socket than) the handler whose writes
 * it gathers; per connection (it holds state).
 *
 * <p>A writer that knows its writes are small can skip its own buffer and the copy: {@link #below} finds the
 * coalescer its writes reach, {@link #room} lends the buffer held, and {@link #gathered} takes the write's
 * promise once its bytes are in (the HTTP/2 frame writer does this with its HEADERS and small DATA frames).
 */
public final class SmallWriteCoalescer extends ChannelDuplexHandler {
    /** Buffers up to this size are copied (HTTP/2: frame headers, HEADERS, small DATA, SETTINGS, PING...). */
    private final int maxCopy;
    /** Held bytes go out once a copy would take them past this, without waiting for the flush. */
    private final int holdLimit;
    private final ArrayList<ChannelPromise> promises = new ArrayList<>(8);
    private ChannelHandlerContext ctx;
    private ByteBuf held;
    private boolean ended;

    public SmallWriteCoalescer(int maxCopy, int holdLimit) {
        if (maxCopy <= 0 || holdLimit < maxCopy) {
            throw new IllegalArgumentException("maxCopy " + maxCopy + ", holdLimit " + holdLimit);
        }
        this.maxCopy = maxCopy;
        this.holdLimit = holdLimit;
    }

    /**
     * The coalescer that the writes of the handler at {@code writer} reach with nothing between them but Netty's
     * flush consolidation (whose writes pass as they are), or null. Asked once per connection: the HTTP/2
     * handlers are added together ({@code Http2Flushes}) and none goes between them afterwards.
     */
    public static SmallWriteCoalescer below(ChannelHandlerContext writer) {
        SmallWriteCoalescer found = null;
        for (Map.Entry<String, ChannelHandler> e : writer.pipeline()) {
            ChannelHandler h = e.getValue();
            if (h == writer.handler()) {
                return found;
            }
            if (h instanceof SmallWriteCoalescer c) {
                found = c;
            } else if (!(h instanceof FlushConsolidationHandler)) {
                found = null;
            }
        }
        return null;
    }

    /**
     * The buffer held, with room for at least {@code n} more bytes, for a writer to append a small write to
     * (what was held goes out first when {@code n} would take it past the hold limit); null when the write must
     * go through the pipeline instead: the channel ended, the handler left it, or {@code n} is not small. The
     * writer appends its bytes at the writer index, then hands over its promise ({@link #gathered}).
     */
    public ByteBuf room(int n) {
        if (ended || ctx == null || n > maxCopy) {
            return null;
        }
        if (held != null && held.readableBytes() + n > holdLimit) {
            writeHeld(ctx);
        }
        if (held == null) {
            held = ctx.alloc().directBuffer(Math.max(n, Math.min(holdLimit, 4096)));
        }
        held.ensureWritable(n);
        return held;
    }

    /** The promise of a write appended to the buffer {@link #room} lent: it completes as a copied one's does. */
    public void gathered(ChannelPromise promise) {
        promises.add(promise);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (ended || !(msg instanceof ByteBuf b) || b.readableBytes() > maxCopy) {
            writeHeld(ctx);
            ctx.write(msg, promise);
            return;
        }
        if (!promise.setUncancellable()) {
            b.release(); // cancelled before it was sent, as the socket's queue would drop it at the flush
            return;
        }
        int n = b.readableBytes();
        try {
            if (held != null && held.readableBytes() + n > holdLimit) {
                writeHeld(ctx);
            }
            if (held == null) {
                held = ctx.alloc().directBuffer(Math.max(n, Math.min(holdLimit, 4096)));
            }
            held.writeBytes(b, b.readerIndex(), n);
        } catch (Throwable noMemory) {
            // What is held is intact: it goes first, then this buffer as it is, so no byte is lost or reordered.
            writeHeld(ctx);
            ctx.write(b, promise);
            return;
        }
        b.release();
        promises.add(promise);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        writeHeld(ctx);
        ctx.flush();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        writeHeld(ctx);
        ended = true; // later writes fail at once in the socket's queue, as they did without this handler
        ctx.close(promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        end(new ClosedChannelException());
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            writeHeld(ctx);
        }
        end(new ClosedChannelException());
    }

    /**
     * Hands what is held to the next handler as one buffer, whose write completes the promises of its parts: each
     * part's own promise, so a void one that reports failures to the pipeline still does, and a silent one stays
     * silent.
     */
    private void writeHeld(ChannelHandlerContext ctx) {
        ByteBuf out = held;
        if (out == null) {
            return;
        }
        held = null;
        ChannelPromise[] parts = promises.toArray(new ChannelPromise[0]);
        promises.clear();
        ctx.write(out).addListener(new PartsDone(parts));
    }

    /** The channel ended with bytes held: they are dropped and their writes fail, as queued writes do. */
    private void end(Throwable cause) {
        ended = true;
        if (held != null) {
            held.release();
            held = null;
        }
        for (ChannelPromise p : promises) {
            p.tryFailure(cause);
        }
        promises.clear();
    }

    private record PartsDone(ChannelPromise[] parts) implements ChannelFutureListener {
        @Override
        public void operationComplete(ChannelFuture f) {
            Throwable cause = f.cause();
            for (ChannelPromise p : parts) {
                if (cause == null) {
                    p.trySuccess();
                } else {
                    p.tryFailure(cause);
                }
            }
        }
    }
}
