package io.sluice.l4;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.Native;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;

/**
 * One socket of a {@link SpliceRelay} on its event loop's epoll set: the source of one direction and the
 * destination of the other. Turns epoll's events into what they mean for those two directions and pumps them.
 */
final class SplicedSocket implements EpollIoHandle {
    /**
     * Asked once, for good: edge-triggered, so no epoll_ctl is needed per wait. One instance, because
     * EpollIoOps.valueOf builds a new one for any value with EPOLLET.
     */
    private static final EpollIoOps INTEREST =
            EpollIoOps.valueOf(Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET);
    /** Linux's EPOLLHUP, the same on every architecture (uapi eventpoll.h); Netty's Native does not name it. */
    private static final int EPOLLHUP = 0x010;
    private static final int HANG_UP = Native.EPOLLRDHUP | Native.EPOLLERR | EPOLLHUP;

    private final SpliceRelay relay;
    private final SpliceDirection reading;
    private final SpliceDirection writing;
    /** Set once the loop took the socket, and only while the relay is open. */
    private IoRegistration registration;

    SplicedSocket(SpliceRelay relay, SpliceDirection reading, SpliceDirection writing) {
        this.relay = relay;
        this.reading = reading;
        this.writing = writing;
    }

    /** Puts the socket on the loop's epoll set; {@code then} runs only when that worked and the relay is still open. */
    void register(IoEventLoop loop, Runnable then) {
        loop.register(this).addListener((Future<IoRegistration> f) -> {
            if (!f.isSuccess()) {
                relay.close("registration failed: " + f.cause());
                return;
            }
            if (relay.isClosed()) {
                // Closed meanwhile: a registration left behind would outlive its descriptor number.
                f.getNow().cancel();
                return;
            }
            registration = f.getNow();
            then.run();
        });
    }

    /** Asks for every event this socket will ever need; throws when epoll_ctl refuses. */
    void arm() {
        registration.submit(INTEREST);
    }

    /** Off the epoll set, so that a reused descriptor number cannot reach the relay. */
    void cancel() {
        if (registration != null) {
            registration.cancel();
        }
    }

    @Override
    public FileDescriptor fd() {
        return reading.src;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        int ops = ((EpollIoEvent) event).ops().value();
        if ((ops & (Native.EPOLLERR | EPOLLHUP)) != 0 && reading.finSent()) {
            // A reset after this side's FIN: no splice would see it, since nothing is read from this
            // socket any more and nothing may be waiting to be written to it.
            relay.close(reading.name + ": reset after end of input");
            return;
        }
        if ((ops & HANG_UP) != 0) {
            reading.hungUp();
        }
        if ((ops & Native.EPOLLERR) != 0) {
            // A FIN and then a reset: the reads see the FIN first, and nothing would look at this socket again.
            reading.resetSeen();
        }
        if ((ops & (Native.EPOLLIN | HANG_UP)) != 0) {
            reading.readable();
            relay.pump(reading);
        }
        if ((ops & (Native.EPOLLOUT | HANG_UP)) != 0) {
            relay.pump(writing);
        }
    }

    @Override
    public void close() {
        // The event loop is shutting down.
        relay.close("event loop closing");
    }
}
