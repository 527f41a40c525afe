package io.sluice.net;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Closes a connection whose peer takes none of what is sent to it for the timeout: bytes wait in the channel's
 * outbound buffer and none of them move. A proxy stops reading the server when its client cannot take more, so
 * without this a client that never reads holds its connection, the server's connection and the buffered bytes
 * for as long as it likes. A slow reader is fine: any progress starts the wait again (like NGINX's
 * {@code send_timeout}, a time between two successful writes, not for the whole response).
 *
 * <p>Costs nothing while nothing waits: a check is scheduled only when a flush leaves bytes behind, and goes on
 * every quarter of the timeout while they are there. It reads the outbound buffer as Netty's IdleStateHandler
 * does with {@code observeOutput}: the message at its head, how far that one is written, and the bytes pending.
 * Event loop only.
 *
 * <p>Under direct memory pressure ({@link DirectMemoryPressure}) the timeout is cut to nothing: a connection is
 * closed (and counted as a send timeout) when its write buffer fills, or when a check finds it full (a trickle
 * does not save it then). Only a full buffer counts: a small answer waiting on a busy loop is no reason to close. A flood of clients that never read (each holding up to about 450 KiB) would
 * otherwise fill direct memory to the JVM's limit before their {@code send_timeout} ran out; past that limit
 * every read fails.
 */
public final class SendTimeoutHandler extends ChannelDuplexHandler {
    private final long timeoutNanos;
    private final Runnable onTimeout;
    private final BooleanSupplier memoryPressure;
    private ScheduledFuture<?> check;
    private boolean timedOut;
    private long stuckSince;
    /** The head message's identity hash: no reference kept to a buffer that may be released and recycled. */
    private int lastHead;
    private long lastProgress;
    private long lastPending;

    /** {@code onTimeout} runs (to count it) just before the close. */
    public SendTimeoutHandler(long timeout, TimeUnit unit, Runnable onTimeout) {
        this(timeout, unit, onTimeout, DirectMemoryPressure.JVM::high);
    }

    /** {@code memoryPressure} says when to stop waiting for a stalled peer. */
    public SendTimeoutHandler(long timeout, TimeUnit unit, Runnable onTimeout, BooleanSupplier memoryPressure) {
        this.timeoutNanos = unit.toNanos(timeout);
        this.onTimeout = onTimeout;
        this.memoryPressure = memoryPressure;
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        watchIfPending(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (!ctx.channel().isWritable() && ctx.channel().isOpen() && memoryPressure.getAsBoolean()) {
            timeOut(ctx);
            return;
        }
        watchIfPending(ctx);
        ctx.fireChannelWritabilityChanged();
    }

    private void timeOut(ChannelHandlerContext ctx) {
        cancel();
        if (timedOut) {
            return; // a close may take a while (io_uring waits for operations in flight): count it once
        }
        timedOut = true;
        onTimeout.run();
        ctx.close();
    }

    private void watchIfPending(ChannelHandlerContext ctx) {
        if (check != null) {
            return;
        }
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out == null || out.totalPendingWriteBytes() == 0) {
            return;
        }
        remember(out);
        stuckSince = System.nanoTime();
        schedule(ctx, timeoutNanos / 4);
    }

    private void schedule(ChannelHandlerContext ctx, long nanos) {
        check = ctx.executor().schedule(() -> check(ctx), Math.max(nanos, 1_000_000), TimeUnit.NANOSECONDS);
    }

    private void check(ChannelHandlerContext ctx) {
        check = null;
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (!ctx.channel().isOpen() || out == null || out.totalPendingWriteBytes() == 0) {
            return; // all sent: the next flush that leaves bytes behind watches again
        }
        if (!ctx.channel().isWritable() && memoryPressure.getAsBoolean()) {
            timeOut(ctx);
            return;
        }
        long now = System.nanoTime();
        if (moved(out)) {
            remember(out);
            stuckSince = now;
        } else if (now - stuckSince >= timeoutNanos) {
            timeOut(ctx);
            return;
        }
        schedule(ctx, Math.min(timeoutNanos / 4, timeoutNanos - (now - stuckSince)));
    }

    /** A message finished, the head one advanced, or fewer bytes wait: the peer took something. */
    private boolean moved(ChannelOutboundBuffer out) {
        return System.identityHashCode(out.current()) != lastHead || out.currentProgress() != lastProgress
                || out.totalPendingWriteBytes() < lastPending;
    }

    private void remember(ChannelOutboundBuffer out) {
        lastHead = System.identityHashCode(out.current());
        lastProgress = out.currentProgress();
        lastPending = out.totalPendingWriteBytes();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancel();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancel();
    }

    private void cancel() {
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }
}
