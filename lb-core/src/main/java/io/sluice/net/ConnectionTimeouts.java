package io.sluice.net;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.function.BooleanSupplier;

/**
 * A client connection's idle and send timeouts, in one pipeline stage and on the connection's one
 * {@link ConnectionClock}, which the protocol handlers behind may share for their own timers. Either timeout
 * may be off (0).
 *
 * <p><b>Idle</b>: fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} once when the connection has neither read nor
 * written for the timeout. Netty's IdleStateHandler does the same but hangs a listener on every write's promise
 * to see it complete, which costs a promise and a callback per forwarded buffer; here a write counts when it is
 * made. That is the same verdict for a proxy: when the peer stops reading, backpressure stops our writes, and
 * the connection goes idle. The timer re-arms itself for the time still left.
 *
 * <p><b>Send</b>: closes a connection whose peer takes none of what is sent to it for the timeout: bytes wait in
 * the channel's outbound buffer and none of them move. A proxy stops reading the server when its client cannot
 * take more, so without this a client that never reads holds its connection, the server's connection and the
 * buffered bytes for as long as it likes. A slow reader is fine: any progress starts the wait again (like
 * NGINX's {@code send_timeout}, a time between two successful writes, not for the whole response). A check is
 * armed only when a flush leaves bytes behind, and goes on every quarter of the timeout while they are there.
 * It reads the outbound buffer as Netty's IdleStateHandler does with {@code observeOutput}: the message at its
 * head, how far that one is written, and the bytes pending.
 *
 * <p>Under direct memory pressure ({@link DirectMemoryPressure}) the send timeout is cut to nothing: a
 * connection is closed (and counted as a send timeout) when its write buffer fills, or when a check finds it
 * full (a trickle does not save it then). Only a full buffer counts: a small answer waiting on a busy loop is
 * no reason to close. A flood of clients that never read (each holding up to about 450 KiB) would otherwise
 * fill direct memory to the JVM's limit before their {@code send_timeout} ran out; past that limit every read
 * fails.
 */
public final class ConnectionTimeouts extends ChannelDuplexHandler {
    private static final BooleanSupplier JVM_PRESSURE = DirectMemoryPressure.JVM::high;

    private final long idleNanos;
    private final long sendNanos;
    private final Runnable onSendTimeout;
    private final BooleanSupplier memoryPressure;
    private ChannelHandlerContext ctx;
    private ConnectionClock clock;
    private IdleTimer idle;
    private SendCheck send;
    private boolean started;
    /** Whether reads and writes keep the connection open: with an idle timeout, until {@link #stopCountingActivity}. */
    private boolean countActivity;
    private long lastActivity;

    /** Only an idle timeout, {@code idleNanos} > 0. */
    public static ConnectionTimeouts idle(long idleNanos) {
        return new ConnectionTimeouts(idleNanos, 0, null);
    }

    /** {@code onSendTimeout} runs (to count it) just before the close. */
    public ConnectionTimeouts(long idleNanos, long sendNanos, Runnable onSendTimeout) {
        this(idleNanos, sendNanos, onSendTimeout, JVM_PRESSURE);
    }

    /** {@code memoryPressure} says when to stop waiting for a stalled peer. */
    public ConnectionTimeouts(long idleNanos, long sendNanos, Runnable onSendTimeout,
                              BooleanSupplier memoryPressure) {
        this.idleNanos = idleNanos;
        this.sendNanos = sendNanos;
        this.onSendTimeout = onSendTimeout;
        this.memoryPressure = memoryPressure;
    }

    /** The connection's clock, for the other timers of the connection; null until the handler is added. */
    public ConnectionClock clock() {
        return clock;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        clock = new ConnectionClock(ctx.executor());
        if (idleNanos > 0) {
            idle = new IdleTimer(clock);
            countActivity = true;
        }
        if (sendNanos > 0) {
            send = new SendCheck(clock);
        }
        if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
            start();
        }
    }

    /** The idle timer starts once the handlers behind have seen the connection open. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        if (ctx.channel().isActive()) {
            start(); // not on a connection a handler behind has closed (turned away): it would outlive it
        }
    }

    private void start() {
        if (!started && idle != null) {
            started = true;
            lastActivity = LoopTime.nanoTime();
            idle.arm(idleNanos);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (countActivity) {
            lastActivity = LoopTime.nanoTime();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (countActivity) {
            lastActivity = LoopTime.nanoTime();
        }
        ctx.write(msg, promise);
    }

    /**
     * From now on nothing read or written keeps the connection open: the idle timeout runs out that long after this
     * call at the latest. For a relay whose server is gone and that reads what the client still sends only to drop
     * it: a client that keeps sending must not keep its connection for ever.
     */
    public void stopCountingActivity() {
        if (countActivity) {
            countActivity = false;
            lastActivity = LoopTime.nanoTime();
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        if (send != null) {
            send.watchIfPending();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (send != null) {
            if (!ctx.channel().isWritable() && ctx.channel().isOpen() && memoryPressure.getAsBoolean()) {
                send.timeOut();
                return;
            }
            send.watchIfPending();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        clock.close();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        clock.close();
    }

    private final class IdleTimer extends ConnectionClock.Timer {
        IdleTimer(ConnectionClock clock) {
            super(clock);
        }

        @Override
        protected void expired() {
            if (!ctx.channel().isOpen()) {
                return;
            }
            long left = idleNanos - (System.nanoTime() - lastActivity);
            if (left > 0) {
                armLeft(left);
            } else {
                ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
            }
        }
    }

    private final class SendCheck extends ConnectionClock.Timer {
        private boolean timedOut;
        private long stuckSince;
        /** The head message's identity hash: no reference kept to a buffer that may be released and recycled. */
        private int lastHead;
        private long lastProgress;
        private long lastPending;

        SendCheck(ConnectionClock clock) {
            super(clock);
        }

        void watchIfPending() {
            if (armed()) {
                return;
            }
            ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
            if (out == null || out.totalPendingWriteBytes() == 0) {
                return;
            }
            remember(out);
            stuckSince = LoopTime.nanoTime();
            arm(quarter());
        }

        private long quarter() {
            return Math.max(sendNanos / 4, 1_000_000);
        }

        @Override
        protected void expired() {
            ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
            if (!ctx.channel().isOpen() || out == null || out.totalPendingWriteBytes() == 0) {
                return; // all sent: the next flush that leaves bytes behind watches again
            }
            if (!ctx.channel().isWritable() && memoryPressure.getAsBoolean()) {
                timeOut();
                return;
            }
            long now = System.nanoTime();
            if (moved(out)) {
                remember(out);
                stuckSince = now;
            } else if (now - stuckSince >= sendNanos) {
                timeOut();
                return;
            }
            long left = Math.max(sendNanos - (now - stuckSince), 1_000_000);
            if (left < quarter()) {
                armLeft(left);
            } else {
                arm(quarter());
            }
        }

        void timeOut() {
            disarm();
            if (timedOut) {
                return; // a close may take a while (io_uring waits for operations in flight): count it once
            }
            timedOut = true;
            onSendTimeout.run();
            ctx.close();
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
    }
}
