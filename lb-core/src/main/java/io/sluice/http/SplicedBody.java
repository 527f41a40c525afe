package io.sluice.http;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.SluiceSockets;
import io.sluice.l4.HeldPipe;
import io.sluice.l4.PipePool;
import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rest of a large Content-Length response body, moved from the server connection's socket to the client's
 * with splice(2) through a pipe, never through user space (HAProxy's {@code option splice-response}). Only for a
 * raw client connection ({@link UringHttpConnection}): it owns the client's socket and sends the response's bytes
 * itself. The server connection stays a pooled Netty channel, and the splice takes from its socket only while
 * Netty does not read it ({@link Source#spliceable}); when Netty reads again (the server's FIN makes it read on
 * its own) the splice stops, and the rest comes through the decoder as body parts, queued behind the pipe.
 *
 * <p>One splice per body, driven by its client connection on the loop both connections share: {@link #pump} moves
 * what it can and says what to wait for. The pipe comes from the loop's pool and goes back empty.
 */
final class SplicedBody {
    private static final Logger log = LoggerFactory.getLogger(SplicedBody.class);

    /**
     * Splicing needs Netty's epoll library for the system call and a view of when Netty reads a socket;
     * {@code -Dsluice.http.rawFront.splice=false} keeps every body in buffers.
     */
    static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("sluice.http.rawFront.splice", "true"))
            && Epoll.isAvailable();
    /** A body with at least this much still to come when the server's read batch ends is spliced. */
    static final long AFTER = 64 * 1024;
    /** Asked of each splice(2) into the pipe; the kernel moves at most the pipe's capacity (64 KiB) at a time. */
    private static final int SPLICE_LEN = 1 << 20;
    /** Bytes spliced per wake-up before a poll gives the loop's other work its turn. */
    private static final int PER_WAKE = 1 << 20;

    /** The server's side of one spliced body, as the forwarder keeps it. */
    interface Source {
        /** The server connection's socket. */
        int fd();

        /** Whether bytes may be taken from the socket now: the body goes on, the socket is open, Netty is not reading it. */
        boolean spliceable();

        /** Body bytes not yet read, by the splice or by Netty. */
        long remaining();

        /** {@code bytes} of the body went from the socket into the pipe. */
        void moved(int bytes);

        /**
         * Every byte of the body is out of the socket, the pipe still holding some for a client that is behind:
         * the server's side of the response is over. Called at most once, outside {@link #pump}; {@link #ended}
         * follows once the pipe is empty.
         */
        void allTaken();

        /**
         * The splice is over and its pipe is empty: the body is complete, or Netty reads the rest. Called once, and
         * not after the client connection closed.
         */
        void ended();
    }

    /** What {@link #pump} stopped for. */
    enum Next {
        /** The server's socket is empty: a poll on it. */
        SERVER,
        /** The client's socket is full: a poll for room. */
        CLIENT,
        /** Nothing more from the server's socket and the pipe is empty: {@link #end}. */
        OVER,
        /** The client's socket failed: the connection closes. */
        CLIENT_FAILED
    }

    /** Body bytes the process spliced, for tests. */
    private static final LongAdder SPLICED = new LongAdder();

    private final Source source;
    private final HeldPipe pipe;
    private final int clientFd;
    /** False once the server's socket is left to Netty (or the body is all in). */
    private boolean fromServer = true;

    SplicedBody(Source source, PipePool pipes, int clientFd) {
        this.source = source;
        this.pipe = new HeldPipe(pipes);
        this.clientFd = clientFd;
    }

    /** Whether it can start: the splice(2) call is there and Netty's reads are visible on the server's channel. */
    static boolean possible(io.netty.channel.Channel server) {
        return ENABLED && SluiceSockets.readsVisible(server);
    }

    static long splicedBytes() {
        return SPLICED.sum();
    }

    int serverFd() {
        return source.fd();
    }

    /**
     * Drains the pipe into the client, then splices server to pipe to client until the body is in, the server's
     * socket is empty or left to Netty, the client is full, or this wake-up's share is spent. {@code serverHungUp}:
     * a poll saw the server's FIN or an error, so an empty splice means the end of its input.
     */
    Next pump(boolean serverHungUp) {
        int moved = 0;
        for (;;) {
            if (pipe.bytes() > 0) {
                int n;
                try {
                    n = pipe.drain(clientFd);
                } catch (IOException | RuntimeException e) {
                    log.debug("splice to a client failed: {}", e.toString());
                    return Next.CLIENT_FAILED;
                }
                if (n == 0) {
                    return Next.CLIENT;
                }
                continue;
            }
            if (!fromServer || source.remaining() == 0 || !source.spliceable()) {
                fromServer = false;
                return Next.OVER;
            }
            if (moved >= PER_WAKE) {
                return Next.SERVER; // the poll completes at once when more is there, after the loop's other work
            }
            int n;
            try {
                n = pipe.fill(source.fd(), (int) Math.min(SPLICE_LEN, source.remaining()));
            } catch (IOException | RuntimeException e) {
                // No pipe (out of descriptors, say), or a reset, which Netty's read finds too and the exchange
                // ends as any broken response: either way Netty reads the rest.
                log.debug("splice from a server failed: {}", e.toString());
                fromServer = false;
                pipe.returnIfEmpty();
                return Next.OVER;
            }
            if (n == 0) {
                if (serverHungUp) {
                    fromServer = false; // the server's FIN mid-body: Netty's read sees the end, the response broke
                    return Next.OVER;
                }
                pipe.returnIfEmpty();
                return Next.SERVER;
            }
            moved += n;
            SPLICED.add(n);
            source.moved(n);
        }
    }

    /**
     * After a {@link #pump} that stopped for the client: when the body is all in the pipe, the source hears it
     * now, so that the server connection's end, which may come before the client has caught up, finds the
     * response whole. The server's socket is not looked at again.
     */
    void tellIfAllTaken() {
        if (fromServer && source.remaining() == 0) {
            fromServer = false;
            source.allTaken();
        }
    }

    /** Whether every byte of the body left the server's socket (some maybe still in the pipe). */
    boolean serverDone() {
        return !fromServer;
    }

    /** The splice is over with its pipe empty: the pipe goes back, and the source hears it. */
    void end() {
        pipe.returnIfEmpty();
        source.ended();
    }

    /** The client connection closes: the pipe goes back, or is closed with what it still holds. */
    void drop() {
        pipe.drop();
    }
}
