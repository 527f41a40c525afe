package io.sluice.net;

import io.netty.channel.IoHandlerContext;

/** A loop's context handed to a wrapped IO handler with one answer changed; the rest is the loop's own. */
abstract class ForwardingIoHandlerContext implements IoHandlerContext {
    /** The loop's context for the current run; set before each wrapped run. */
    IoHandlerContext context;

    @Override
    public boolean canBlock() {
        return context.canBlock();
    }

    @Override
    public long delayNanos(long currentTimeNanos) {
        return context.delayNanos(currentTimeNanos);
    }

    @Override
    public long deadlineNanos() {
        return context.deadlineNanos();
    }

    @Override
    public void reportActiveIoTime(long activeNanos) {
        context.reportActiveIoTime(activeNanos);
    }

    @Override
    public boolean shouldReportActiveIoTime() {
        return context.shouldReportActiveIoTime();
    }
}
