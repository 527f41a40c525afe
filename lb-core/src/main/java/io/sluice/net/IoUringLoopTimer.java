package io.sluice.net;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.slf4j.LoggerFactory;

/**
 * One kernel timer per io_uring event loop for its earliest scheduled task, armed only when that deadline moves
 * earlier. Netty 4.2.18's {@code IoUringIoHandler.run} submits an {@code IORING_OP_TIMEOUT} with every blocking
 * wait (for the earliest scheduled task, or a second away when there is none), and Sluice's loops always have a
 * task (the connections' timers through {@link TimerLanes}, the pools' timers): on a keep-alive connection that was about one TIMEOUT submission,
 * one hrtimer start and cancel, and one extra completion per request, for a deadline that had not moved.
 *
 * <p>Here the handler is told that no task is scheduled (so it blocks until a completion), and this class keeps
 * a timeout of its own in the ring for the earliest deadline: a new one only when the deadline is earlier than
 * the one armed, or when the armed one has fired. A deadline that moves later (its task cancelled) leaves the
 * armed timer, which then wakes the loop once for nothing and is armed afresh. A timer left in the ring by an
 * earlier deadline also just wakes the loop once. Due tasks (delay 0) and loops where this cannot work go
 * through unchanged.
 *
 * <p>{@code -Dsluice.io_uring.loopTimer=false} turns it off (Netty's own timeout per wait).
 */
public final class IoUringLoopTimer {
    static final String PROPERTY = "sluice.io_uring.loopTimer";

    private static final byte IORING_OP_TIMEOUT = 11;
    private static final int TIMESPEC_SIZE = 16;
    /** How long past its deadline an armed timer's completion may be missing before a new one is armed. */
    private static final long OVERDUE_NANOS = 1_000_000_000L;

    private IoUringLoopTimer() {
    }

    /** Wraps io_uring's handler factory unless the property turns it off or direct addresses are unavailable. */
    public static IoHandlerFactory wrap(IoHandlerFactory ioUring) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) || !PlatformDependent.hasUnsafe()) {
            return ioUring;
        }
        return new WrappedHandlers(ioUring, Timed::new);
    }

    private static final class Timed extends ForwardingIoHandler implements IoUringIoHandle {
        private final ByteBuffer timespec = ByteBuffer.allocateDirect(TIMESPEC_SIZE).order(ByteOrder.nativeOrder());
        private final long timespecAddress = PlatformDependent.directBufferAddress(timespec);
        private final Untimed untimed = new Untimed();
        private IoRegistration registration;
        private boolean failed;
        private boolean armed;
        private long armedAt;
        private short seq;

        Timed(IoHandler io) {
            super(io);
        }

        @Override
        public int run(IoHandlerContext context) {
            long deadline = context.deadlineNanos();
            if (deadline == -1 || !ready()) {
                return io.run(context);
            }
            long now = System.nanoTime();
            long delay = context.delayNanos(now);
            if (delay <= 0) {
                return io.run(context);
            }
            long at = now + delay;
            if (armed && now - armedAt > OVERDUE_NANOS) {
                // The armed timer's completion never came (or was never consumed): trust it no longer, or no
                // later deadline, all later than the stale one, would ever arm a timer again.
                armed = false;
            }
            if ((!armed || at - armedAt < 0) && !arm(delay, at)) {
                return io.run(context); // Netty's own timeout bounds this wait
            }
            untimed.context = context;
            return io.run(untimed);
        }

        /**
         * A relative timeout with no completion count: a plain timer. The kernel reads the timespec when the
         * submission is consumed, which the wrapped run does before it returns, so one timespec per loop is enough
         * (at most one timeout is queued per run). The armed state changes only once the submission is taken: a
         * full submission queue throws, a closed registration returns 0, and the timer armed before stays the one
         * to wait for.
         */
        private boolean arm(long delayNanos, long at) {
            timespec.putLong(0, delayNanos / 1_000_000_000L);
            timespec.putLong(8, delayNanos % 1_000_000_000L);
            short next = (short) (seq + 1);
            long id;
            try {
                id = registration.submit(new IoUringIoOps(IORING_OP_TIMEOUT, (byte) 0, (short) 0, -1, 0L,
                        timespecAddress, 1, 0, next, (short) 0, (short) 0, 0, 0L));
            } catch (RuntimeException e) {
                return false;
            }
            if (id == 0) {
                return false;
            }
            seq = next;
            armed = true;
            armedAt = at;
            return true;
        }

        private boolean ready() {
            if (registration != null) {
                return registration.isValid();
            }
            if (failed) {
                return false;
            }
            try {
                registration = io.register(this);
                return true;
            } catch (Exception e) {
                failed = true;
                LoggerFactory.getLogger(IoUringLoopTimer.class).warn("io_uring loop timer unavailable, Netty's"
                        + " timeout per wait stays: {}", e.toString());
                return false;
            }
        }

        /** The timer's completion: only the latest one disarms; an older one just woke the loop. */
        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            if (((IoUringIoEvent) event).data() == seq) {
                armed = false;
            }
        }

        @Override
        public void close() {
            if (registration != null) {
                registration.cancel();
            }
        }
    }

    /** The loop's context with its scheduled tasks hidden: the armed timer bounds the wait instead. */
    private static final class Untimed extends ForwardingIoHandlerContext {
        @Override
        public long deadlineNanos() {
            return -1;
        }
    }
}
