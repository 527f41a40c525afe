package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * One way through a {@link SpliceRelay}: source socket, pipe, destination socket, and how far the source has got.
 * Moves bytes only when asked ({@link #fill}, {@link #drain}); when to ask, and what a FIN or an error means for
 * the relay, is the relay's business. Only the relay's event loop touches it.
 */
final class SpliceDirection {
    /**
     * How far this direction has got. It only moves down the list, except that {@link #READABLE} falls back to
     * {@link #IDLE} whenever a splice finds the source empty.
     */
    enum State {
        /**
         * Open, and the last splice found nothing: the next input event says when there is more. Where a
         * direction starts, because adding a socket to epoll reports input that is already waiting.
         */
        IDLE,
        /** Open, and an input event came since a splice last found the source empty. */
        READABLE,
        /**
         * The source reported a hang-up (or a FIN came before the hand-over). It may still hold bytes; a splice
         * that moves nothing into an empty pipe now means end of input, where before it meant EAGAIN.
         */
        HUNG_UP,
        /** End of input read; the FIN goes on once the held bytes and the pipe are written. */
        ENDED,
        /** The FIN was passed on: nothing more moves this way. */
        FIN_SENT
    }

    /** Asked of each splice(2); the kernel moves at most a pipe's capacity (64 KiB by default) at a time. */
    private static final int SPLICE_LEN = 1 << 20;

    final String name;
    final Socket src;
    final Socket dst;
    /** The server's byte counter for this way (the metric). */
    private final LongAdder counted;
    private State state = State.IDLE;
    /** The source reported an error (a reset): once its input ends, the relay ends too. */
    private boolean reset;
    /** A pump of this direction is queued on the loop after it spent its budget for one wake-up. */
    boolean resumeScheduled;
    /** This connection's bytes this way, for the log. */
    long moved;
    private final HeldPipe pipe;
    /** Bytes read before splicing began, written before anything from the pipe. */
    private ArrayDeque<ByteBuf> held;

    SpliceDirection(String name, Socket src, Socket dst, LongAdder counted, PipePool pool) {
        this.name = name;
        this.src = src;
        this.dst = dst;
        this.counted = counted;
        this.pipe = new HeldPipe(pool);
    }

    /**
     * Takes over what the source's channel read before the hand-over. A FIN already seen: the source has nothing
     * more to report, so the next pump looks at it once more without waiting for an event.
     */
    void handOver(ArrayDeque<ByteBuf> heldBytes, boolean fin) {
        held = heldBytes;
        state = fin ? State.HUNG_UP : State.IDLE;
    }

    State state() {
        return state;
    }

    boolean finSent() {
        return state == State.FIN_SENT;
    }

    /** Input ended and everything read is written: time for the FIN. */
    boolean endedAndEmpty() {
        return state == State.ENDED && pipe.bytes() == 0 && held == null;
    }

    /** Nothing read is left to write. */
    boolean isEmpty() {
        return pipe.bytes() == 0 && held == null;
    }

    boolean wasReset() {
        return reset;
    }

    /** An input event: the source may have bytes. */
    void readable() {
        if (state == State.IDLE) {
            state = State.READABLE;
        }
    }

    /** The source hung up (RDHUP, HUP or ERR). */
    void hungUp() {
        if (state == State.IDLE || state == State.READABLE) {
            state = State.HUNG_UP;
        }
    }

    /** The source reported an error; the reads still see the FIN before it. */
    void resetSeen() {
        reset = true;
    }

    void finPassedOn() {
        state = State.FIN_SENT;
    }

    int heldBuffers() {
        return held == null ? 0 : held.size();
    }

    /**
     * Source to pipe. Netty's splice answers 0 both for EAGAIN (socket empty or pipe full) and for end of
     * input; with the pipe empty the pipe cannot be full, and after a hang-up the socket cannot be merely
     * empty, so 0 then means end of input.
     */
    int fill() throws IOException {
        if ((state != State.READABLE && state != State.HUNG_UP) || held != null) {
            return 0;
        }
        int n = pipe.fill(src.intValue(), SPLICE_LEN);
        if (n > 0) {
            counted.add(n);
            moved += n;
        } else if (pipe.bytes() == 0) {
            // After a hang-up that is the end; otherwise the next input event says when there is more.
            state = state == State.HUNG_UP ? State.ENDED : State.IDLE;
        }
        return n;
    }

    /** After {@link #fill} failed: false when it was the pipe that could not be opened, not the source. */
    boolean hasPipe() {
        return pipe.taken();
    }

    /** Held bytes, then pipe to destination; returns the bytes written. */
    int drain() throws IOException {
        int written = 0;
        if (held != null) {
            written += writeHeld();
            if (held != null) {
                return written;
            }
        }
        written += pipe.drain(dst.intValue());
        return written;
    }

    private int writeHeld() throws IOException {
        int written = 0;
        ByteBuf b;
        while ((b = held.peek()) != null) {
            ByteBuffer nio = b.nioBuffer();
            if (!nio.isDirect()) {
                // The native write takes a direct buffer's address; epoll reads into direct buffers anyway.
                nio = ByteBuffer.allocateDirect(nio.remaining()).put(nio).flip();
            }
            int n = dst.write(nio, nio.position(), nio.limit());
            b.skipBytes(n);
            counted.add(n);
            moved += n;
            written += n;
            if (b.isReadable()) {
                return written;
            }
            held.poll().release();
        }
        held = null;
        return written;
    }

    void releaseHeld() {
        if (held != null) {
            held.forEach(ByteBuf::release);
            held = null;
        }
    }

    /** Gives an empty pipe back to the pool; one with bytes stuck in it is kept. */
    void returnPipeIfEmpty() {
        pipe.returnIfEmpty();
    }

    /** The relay ends: an empty pipe goes back to the pool, one with bytes stuck in it is closed. */
    void dropPipe() {
        pipe.drop();
    }
}
