package io.sluice.l4;

import io.netty.channel.epoll.Native;
import java.io.IOException;

/**
 * The pipe one spliced direction moves its bytes through (source, pipe, destination, all inside the kernel), taken
 * from its loop's {@link PipePool} only while needed: held while bytes sit in it (the destination is slow), given
 * back as soon as it is empty, so a quiet connection holds no descriptors beyond its sockets. The raw TCP relay
 * ({@link UringConnection}), the epoll splice relay ({@link SpliceDirection}) and the raw HTTP front's spliced
 * bodies share it. On its loop's thread only.
 */
public final class HeldPipe {
    private final PipePool pool;
    private PipePool.Pipe pipe;
    /** Bytes in the pipe. */
    private int bytes;

    public HeldPipe(PipePool pool) {
        this.pool = pool;
    }

    /**
     * splice(2) of at most {@code len} bytes from {@code fd} into the pipe, taken from the pool first when none is
     * held. 0 means an empty source or its end (Netty's splice answers both alike); the caller knows which. Throws
     * when the source failed, or when no pipe could be opened ({@link #taken} then says false).
     */
    public int fill(int fd, int len) throws IOException {
        if (pipe == null) {
            pipe = pool.acquire();
        }
        int n = Native.splice(fd, -1, pipe.writeEnd().intValue(), -1, len);
        bytes += n;
        return n;
    }

    /** splice(2) of what the pipe holds into {@code fd}; returns the bytes moved, 0 when {@code fd} takes none now. */
    public int drain(int fd) throws IOException {
        if (bytes == 0) {
            return 0;
        }
        int n = Native.splice(pipe.readEnd().intValue(), -1, fd, -1, bytes);
        bytes -= n;
        return n;
    }

    /** Bytes in the pipe. */
    public int bytes() {
        return bytes;
    }

    /** Whether a pipe is held. */
    public boolean taken() {
        return pipe != null;
    }

    /** An empty pipe goes back to the pool; one with bytes in it is kept. */
    public void returnIfEmpty() {
        if (pipe != null && bytes == 0) {
            pool.release(pipe);
            pipe = null;
        }
    }

    /** The direction ends: an empty pipe goes back to the pool, one with bytes stuck in it is closed with them. */
    public void drop() {
        returnIfEmpty();
        if (pipe != null) {
            pipe.close();
            pipe = null;
            bytes = 0;
        }
    }
}
