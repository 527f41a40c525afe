package io.sluice.l4;

import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.FastThreadLocal;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * Empty pipes of one event loop, kept for the next splice that needs one. A {@link SpliceRelay} direction holds
 * a pipe only while bytes sit in it (its destination is slow) and hands it back once it is empty, so a busy
 * loop opens a few pipes and reuses them instead of two pipe(2) and four close(2) calls per connection, and a
 * quiet connection holds no descriptors beyond its two sockets. (HAProxy keeps a pipe pool for the same reasons.)
 * Every relay of a loop runs on that loop's thread, hence one pool per thread and no locking.
 */
final class PipePool {
    /** Empty pipes kept per event loop; beyond this, released pipes are closed. */
    static final int MAX_IDLE = 64;
    /** Pipes opened, process-wide; read by tests. */
    static final LongAdder CREATED = new LongAdder();

    private static final FastThreadLocal<ArrayDeque<Pipe>> IDLE = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Pipe> initialValue() {
            return new ArrayDeque<>();
        }

        @Override
        protected void onRemoval(ArrayDeque<Pipe> idle) {
            // The event-loop thread is ending.
            idle.forEach(Pipe::close);
            idle.clear();
        }
    };

    private PipePool() {
    }

    static Pipe acquire() throws IOException {
        Pipe p = IDLE.get().poll();
        if (p == null) {
            FileDescriptor[] fds = FileDescriptor.pipe();
            CREATED.increment();
            p = new Pipe(fds[0], fds[1]);
        }
        return p;
    }

    /** Takes back a pipe its user emptied; closes it when the pool is full. */
    static void release(Pipe p) {
        ArrayDeque<Pipe> idle = IDLE.get();
        if (idle.size() < MAX_IDLE) {
            idle.push(p);
        } else {
            p.close();
        }
    }

    /** The two ends of one pipe: bytes spliced into {@code writeEnd} come out of {@code readEnd}. */
    record Pipe(FileDescriptor readEnd, FileDescriptor writeEnd) {
        void close() {
            for (FileDescriptor fd : new FileDescriptor[] {readEnd, writeEnd}) {
                try {
                    fd.close();
                } catch (IOException e) {
                    // Nothing to do about a pipe that will not close.
                }
            }
        }
    }
}
