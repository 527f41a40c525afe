package io.sluice.net;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an event loop alive when an {@link Error} escapes its IO processing. Netty's pipeline turns whatever a
 * handler throws into {@code exceptionCaught}, but Netty 4.2.18's IO handlers rethrow an Error raised outside the
 * pipeline (io_uring: a read buffer allocated when a poll completes), and nothing above them catches it: the
 * loop's thread ends with one WARN line and every connection on it hangs for good. A slow-client flood did exactly
 * that when direct memory ran out ({@code Cannot reserve 4194304 bytes of direct buffer memory}).
 *
 * <p>Here the loop goes on: the completion ring stays consistent (Netty advances its head before each callback
 * and publishes it in a finally), the one connection whose event failed may wait until its own timers close it,
 * and the rest are served. Each such Error is counted ({@code sluice_event_loop_errors_total}) and logged at
 * ERROR (with its stack the 1st, 2nd, 4th, 8th... time, so a storm does not flood the log). An
 * {@code OutOfMemoryError} the JVM itself raises (heap, threads) still ends a process run with
 * {@code -XX:+ExitOnOutOfMemoryError}, as the shipped unit does; one that Java code raises (direct buffers)
 * does not, hence this guard.
 */
public final class LoopGuard {
    private static final Logger log = LoggerFactory.getLogger(LoopGuard.class);
    private static final LongAdder ERRORS = new LongAdder();

    private LoopGuard() {
    }

    public static IoHandlerFactory guard(IoHandlerFactory factory) {
        return new WrappedHandlers(factory, Guarded::new);
    }

    /** Errors caught on any event loop of this process since it started. */
    public static long errors() {
        return ERRORS.sum();
    }

    static void caught(Throwable t) {
        ERRORS.increment();
        long n = ERRORS.sum();
        String loop = Thread.currentThread().getName();
        if (Long.bitCount(n) == 1) {
            log.error("event loop {}: {} escaped IO processing ({} so far); the loop goes on, the connection it"
                    + " concerned may wait for its timeout", loop, t, n, t);
        } else {
            log.error("event loop {}: {} escaped IO processing ({} so far)", loop, t, n);
        }
    }

    /** Everything passes through; only {@link #run} catches. */
    private static final class Guarded extends ForwardingIoHandler {
        Guarded(IoHandler io) {
            super(io);
        }

        /** Also where {@link LoopTime}'s passes begin (the wait and the IO work) and its task runs. */
        @Override
        public int run(IoHandlerContext context) {
            LoopTime.ioRunBegins();
            try {
                return io.run(context);
            } catch (Throwable t) {
                caught(t);
                return 0;
            } finally {
                LoopTime.ioRunEnded();
            }
        }
    }
}
