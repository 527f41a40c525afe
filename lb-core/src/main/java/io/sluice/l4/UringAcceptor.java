package io.sluice.l4;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.Promise;
import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts a listening socket's connections on one event loop, with one multishot ACCEPT: a connection arrives as
 * a file descriptor on this loop and is relayed (or handed to Netty) here, with no task passed between threads.
 * Every loop of the listener has one, on a socket of its own (see {@link UringListenSocket}).
 */
public final class UringAcceptor implements IoUringIoHandle {
    /** What a listener does with an accepted socket, on the acceptor's loop. */
    public interface Sink {
        void accepted(int fd, UringAcceptor acceptor);
    }

    private static final Logger log = LoggerFactory.getLogger(UringAcceptor.class);
    private static final long RETRY_MILLIS = 50;
    private static final short ACCEPTS = 1;
    private static final short CANCEL = 2;
    /** IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD: every request on the listening socket, in this ring. */
    private static final int CANCEL_ALL_ON_FD = 1 | 2;

    private final IoEventLoop loop;
    private final Socket listen;
    private final int listenFd;
    private final Sink sink;
    private final UringOps.SocketAddresses addresses = new UringOps.SocketAddresses();
    private IoRegistration registration;
    /** Set once the listening socket is closing: the ACCEPT is not armed again, late arrivals are closed. */
    private Promise<Void> stopped;
    private boolean armed;

    UringAcceptor(IoEventLoop loop, Socket listen, Sink sink) {
        this.loop = loop;
        this.listen = listen;
        this.listenFd = listen.intValue();
        this.sink = sink;
    }

    /** Registers with the loop and arms the ACCEPT; from a thread other than the loop's. */
    void start() throws InterruptedException {
        registration = loop.register(this).sync().getNow();
        loop.submit(this::arm).sync();
    }

    private void arm() {
        UringOps.submit(registration, UringOps.ACCEPT, UringOps.ACCEPT_MULTISHOT, listenFd, 0L, 0L, 0,
                UringOps.SOCK_NONBLOCK | UringOps.SOCK_CLOEXEC, ACCEPTS);
        armed = true;
    }

    /**
     * Stops accepting: the returned future completes once the kernel has let go of the listening socket here, so
     * that closing it then frees its address.
     */
    Promise<Void> stop() {
        Promise<Void> p = loop.newPromise();
        Runnable stopping = () -> {
            stopped = p;
            if (armed) {
                UringOps.submit(registration, UringOps.ASYNC_CANCEL, listenFd, 0L, 0, CANCEL_ALL_ON_FD, CANCEL);
            } else {
                done();
            }
        };
        try {
            loop.execute(stopping);
        } catch (RejectedExecutionException e) {
            p.trySuccess(null); // the loop's own teardown ends the ACCEPT
        }
        return p;
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        IoUringIoEvent e = (IoUringIoEvent) event;
        if (e.data() == CANCEL) {
            if (e.res() < 0 && armed) {
                // A kernel that cannot cancel by descriptor: shutting the socket down ends the ACCEPT instead.
                try {
                    listen.shutdown(true, true);
                } catch (IOException ignored) {
                    // not listening any more: the ACCEPT has ended
                }
            }
            return; // otherwise the ACCEPT's own completion says it has ended
        }
        int fd = e.res();
        boolean more = (e.flags() & UringOps.CQE_F_MORE) != 0;
        if (!more) {
            armed = false;
        }
        if (fd >= 0) {
            if (stopped == null) {
                try {
                    sink.accepted(fd, this);
                } catch (Throwable t) {
                    // Whatever took the descriptor closes it; here only what failed before anything took it.
                    log.warn("accepted connection failed before it was set up", t);
                }
            } else {
                UringConnection.closeFd(fd);
            }
        }
        if (!more) {
            if (stopped != null) {
                done();
            } else if (fd < 0) {
                // Out of descriptors or memory: accepting again at once would spin on the same error while the
                // connections that would free them wait for this loop. HAProxy pauses its listener likewise.
                log.warn("accept failed (error {}); accepting again in {} ms", -fd, RETRY_MILLIS);
                loop.schedule(this::rearm, RETRY_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                arm(); // the kernel ends a multishot request now and then (a full completion queue)
            }
        }
    }

    private void rearm() {
        if (stopped == null && !armed) {
            arm();
        } else if (stopped != null && !armed) {
            done();
        }
    }

    private void done() {
        registration.cancel();
        stopped.trySuccess(null);
    }

    public IoEventLoop loop() {
        return loop;
    }

    IoRegistration registration() {
        return registration;
    }

    UringOps.SocketAddresses addresses() {
        return addresses;
    }

    @Override
    public void registered() {
    }

    @Override
    public void close() {
        // The loop is shutting down; the listening socket is its listener's to close.
    }
}
