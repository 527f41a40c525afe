package io.netty.channel.uring;

import io.netty.channel.IoHandler;
import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Hands the submissions an io_uring event loop has queued so far to the kernel now, in the middle of a loop pass.
 * Netty 4.2.18 submits once per pass, after it has handled every completion: work done early in a pass (a
 * response, a handshake's reply) waits for everything after it, and a pass that runs several TLS handshakes
 * (100-200 µs of CPU each) holds the answers of every other connection for all of them. In this package because
 * the loop's submission queue is private to Netty's handler; a Netty upgrade that renames it makes
 * {@link #bind} find nothing, and {@link #submitQueued} then does nothing (as on epoll or NIO).
 */
public final class SluiceRings {
    private static final VarHandle RING_BUFFER;
    private static final FastThreadLocal<SubmissionQueue> QUEUE = new FastThreadLocal<>();

    static {
        VarHandle ring;
        try {
            ring = MethodHandles.privateLookupIn(IoUringIoHandler.class, MethodHandles.lookup())
                    .findVarHandle(IoUringIoHandler.class, "ringBuffer", RingBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            ring = null;
        }
        RING_BUFFER = ring;
    }

    private SluiceRings() {
    }

    /** On the loop's thread, once its handler is initialised: whether {@link #submitQueued} works there. */
    public static boolean bind(IoHandler handler) {
        if (RING_BUFFER == null || !(handler instanceof IoUringIoHandler)) {
            return false;
        }
        QUEUE.set(((RingBuffer) RING_BUFFER.get(handler)).ioUringSubmissionQueue());
        return true;
    }

    /**
     * On a loop's thread: submits what is queued (nothing else; completions are read at the pass's end as
     * always). Only between whole operations: linked submissions are queued together by one call, never split.
     */
    public static void submitQueued() {
        SubmissionQueue q = QUEUE.getIfExists();
        if (q != null && q.count() > 0) {
            q.submit();
        }
    }
}
