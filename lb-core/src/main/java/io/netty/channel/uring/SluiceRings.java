package io.netty.channel.uring;

import io.netty.channel.IoHandler;
import io.netty.channel.unix.IovArray;
import io.netty.util.concurrent.FastThreadLocal;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Hands the submissions an io_uring event loop has queued so far to the kernel now, in the middle of a loop pass.
 * Netty 4.2.18 submits once per pass, after it has handled every completion: work done early in a pass (a
 * response, a handshake's reply) waits for everything after it, and a pass that runs several TLS handshakes
 * (100-200 µs of CPU each) holds the answers of every other connection for all of them. In this package because
 * the loop's ring and its scratch arrays are private to Netty's handler. If a Netty upgrade renames those fields,
 * {@link #bind} finds nothing and {@link #submitQueued} does nothing (as on epoll or NIO); a renamed method of the
 * package breaks the build instead.
 */
public final class SluiceRings {
    private static final VarHandle RING_BUFFER;
    private static final VarHandle IOV_ARRAY;
    private static final VarHandle MSG_HDRS;
    private static final FastThreadLocal<Ring> RING = new FastThreadLocal<>();

    static {
        VarHandle ring = null;
        VarHandle iov = null;
        VarHandle hdrs = null;
        try {
            MethodHandles.Lookup handler = MethodHandles.privateLookupIn(IoUringIoHandler.class, MethodHandles.lookup());
            ring = handler.findVarHandle(IoUringIoHandler.class, "ringBuffer", RingBuffer.class);
            iov = handler.findVarHandle(IoUringIoHandler.class, "iovArray", IovArray.class);
            hdrs = handler.findVarHandle(IoUringIoHandler.class, "msgHdrMemoryArray", MsgHdrMemoryArray.class);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            ring = null;
        }
        RING_BUFFER = ring;
        IOV_ARRAY = iov;
        MSG_HDRS = hdrs;
    }

    /** A loop's submission queue and the arrays its queued writes point into (reusable once submitted). */
    private record Ring(SubmissionQueue queue, IovArray iovs, MsgHdrMemoryArray msgHdrs) {
    }

    private SluiceRings() {
    }

    /**
     * On the loop's thread, once its handler is initialised: whether {@link #submitQueued} works there. Never
     * throws: a loop whose handler is not as expected runs as Netty made it.
     */
    public static boolean bind(IoHandler handler) {
        if (RING_BUFFER == null || !(handler instanceof IoUringIoHandler)) {
            return false;
        }
        try {
            RING.set(new Ring(((RingBuffer) RING_BUFFER.get(handler)).ioUringSubmissionQueue(),
                    (IovArray) IOV_ARRAY.get(handler), (MsgHdrMemoryArray) MSG_HDRS.get(handler)));
            return true;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /**
     * On a loop's thread: submits what is queued, and (as Netty after its own submissions) frees the scratch
     * arrays the submitted writes used; completions are read at the pass's end as always. Callers call it
     * between whole operations, never between two linked submissions (Netty links none outside its shutdown).
     * Returns false when the kernel refused: what it did not take stays queued for the pass's own submission.
     */
    public static boolean submitQueued() {
        Ring r = RING.getIfExists();
        if (r == null || r.queue.count() == 0) {
            return true;
        }
        try {
            r.queue.submit();
        } catch (RuntimeException e) {
            return false;
        }
        if (r.queue.count() == 0) {
            r.iovs.clear();
            r.msgHdrs.clear();
        }
        return true;
    }
}
