package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.uring.IoUringChannelOption;

/**
 * Ends a read batch that Netty 4.2.18's io_uring transport leaves without a {@code channelReadComplete}, on
 * connections reading with a multishot RECV from the provided-buffer ring ({@link IoUringRecvRing}).
 *
 * <p>The bug (Netty's, traced with HttpBackpressureTest#serverThatStopsReadingStopsTheClient): when a read batch
 * ends and nobody asked for another read, Netty cancels the multishot RECV (ASYNC_CANCEL). Completions the
 * kernel queued before the cancel took effect still arrive, each a {@code channelRead}, and the cancel's own
 * -ECANCELED completion then returns early ({@code AbstractIoUringStreamChannel.IoUringStreamUnsafe.readComplete0},
 * lines 517-525 in 4.2.18) without {@code channelReadComplete}, and re-arms only if a read was pending at that very
 * completion ({@code AbstractIoUringChannel.AbstractUringUnsafe.readComplete}). Sluice writes what it reads and
 * flushes on {@code channelReadComplete}: those last bytes stayed unflushed in the other connection's queue, kept
 * it above its high water mark for good, and so nothing ever asked the client for more.
 *
 * <p>So: the first {@code channelRead} of a batch queues a check on the loop, which runs after the completions at
 * hand; if the batch is still open then, it fires {@code channelReadComplete} from the pipeline's head. A batch that
 * was only spread over several loop turns gets one early completion, which Sluice's handlers take as a flush and
 * a chance to read; one queued task per batch, no system call. It sees every read first, so it goes in first.
 */
public final class UnendedReadBatches extends ChannelInboundHandlerAdapter implements Runnable {
    static final String NAME = "unended-read-batches";

    private ChannelHandlerContext ctx;
    private boolean batchOpen;
    private boolean checkQueued;

    private UnendedReadBatches() {
    }

    /** First in {@code ch}'s pipeline when the connection reads from a provided-buffer ring; else nothing. */
    public static void addTo(Channel ch) {
        Object group = ch.config().getOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID);
        if (group instanceof Short g && g >= 0) {
            ch.pipeline().addFirst(NAME, new UnendedReadBatches());
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        batchOpen = true;
        if (!checkQueued) {
            checkQueued = true;
            ctx.executor().execute(this);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        batchOpen = false;
        ctx.fireChannelReadComplete();
    }

    @Override
    public void run() {
        checkQueued = false;
        if (batchOpen) {
            // From the head: handlers added in front of this one later (flush consolidation) see it too.
            ctx.pipeline().fireChannelReadComplete();
        }
    }
}
