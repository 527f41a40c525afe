package io.sluice.l4;

import io.netty.channel.unix.FileDescriptor;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * Empty pipes of one event loop, kept for the next splice that needs one. A {@link SpliceDirection} holds a
 * pipe only while bytes sit in it (its destination is slow) and hands it back once it is empty, so a busy loop
 * opens a few pipes and reuses them instead of two pipe(2) and four close(2) calls per connection, and a quiet
 * connection holds no descriptors beyond its two sockets. (HAProxy keeps a pipe pool for the same reasons.)
 * Every relay of a loop runs on that loop's thread, hence one pool per loop and no locking; each
 * {@link Splicer} keeps its own, so that the count of pipes opened belongs to one listener, not the process.
 */
public final class PipePool {
    /** Empty pipes kept per event loop; beyond this, released pipes are closed. */
    static final int MAX_IDLE = 64;

    private final ArrayDeque<Pipe> idle = new ArrayDeque<>();
    /** Written on the loop, read by anyone. */
    private final LongAdder created = new LongAdder();

    Pipe acquire() throws IOException {
        Pipe p = idle.poll();
        if (p == null) {
            FileDescriptor[] fds = FileDescriptor.pipe();
            created.increment();
            p = new Pipe(fds[0], fds[1]);
        }
        return p;
    }

    /** Takes back a pipe its user emptied; closes it when the pool is full or its listener is gone. */
    void release(Pipe p) {
        if (!retired && idle.size() < MAX_IDLE) {
            idle.push(p);
        } else {
            p.close();
        }
    }

    /**
     * Its listener was removed (a reload): idle pipes close now, pipes of relays still running when they
     * come back. On the pool's event loop.
     */
    void retire() {
        retired = true;
        closeIdle();
    }

    /** Only once the event loop's thread has ended: then nothing can take or give back a pipe any more. */
    void closeIdle() {
        idle.forEach(Pipe::close);
        idle.clear();
    }

    private boolean retired;

    /** Pipes this pool opened since it was made. */
    long created() {
        return created.sum();
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
