package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.Native;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins a client and its server with splice(2): bytes go socket -> pipe -> socket inside the kernel and never
 * enter a Java buffer. Netty 4.2.18 cannot do this itself (its epoll {@code spliceTo} stops after one pipe-load
 * once the peer's FIN is seen, and its epoll registration drops a socket whose interest went to nothing), so
 * both connected channels are taken off Netty's epoll set and their sockets are registered here instead, on the
 * same event loop, edge-triggered for input, output and hang-up at once. The interest never changes, so there is
 * no epoll_ctl per wait; each wake-up moves what it can until the kernel says EAGAIN.
 *
 * <p>Backpressure is the pipe: a direction reads from its source only while its pipe has room, and its pipe
 * empties only as fast as the destination takes bytes, so a slow reader holds at most one pipe (64 KiB) per
 * direction. A direction holds its pipe only while bytes sit in it; empty pipes go back to the loop's
 * {@link PipePool}. Half-close is passed on as with the buffer relay: a FIN shuts the other socket's output once the
 * pipe is empty; the relay closes both when both directions are finished, on any error, or when idle too long.
 *
 * <p>The channels stay the owners of their sockets: the relay closes them through {@link Channel#close()}, and
 * anything else closing one of them (shutdown, a server marked down) ends the relay through its close future.
 */
final class SpliceRelay {
    private static final Logger log = LoggerFactory.getLogger(SpliceRelay.class);

    /** Asked of each splice(2); the kernel moves at most a pipe's capacity (64 KiB by default) at a time. */
    private static final int SPLICE_LEN = 1 << 20;
    /** Bytes one direction moves per wake-up (read plus written) before it yields the event loop to others. */
    private static final int MAX_MOVED_PER_WAKE = 2 << 20;
    private static final int INTEREST = Native.EPOLLIN | Native.EPOLLOUT | Native.EPOLLRDHUP | Native.EPOLLET;
    /** Linux's EPOLLHUP, the same on every architecture (uapi eventpoll.h); Netty's Native does not name it. */
    private static final int EPOLLHUP = 0x010;
    private static final int HANG_UP = Native.EPOLLRDHUP | Native.EPOLLERR | EPOLLHUP;

    /** Relays registered and not yet closed, process-wide; read by tests. */
    static final AtomicInteger LIVE = new AtomicInteger();
    /** Relays that began with bytes epoll had read before the hand-over; read by tests. */
    static final LongAdder STARTED_WITH_HELD_BYTES = new LongAdder();

    private final IoEventLoop loop;
    private final Channel client;
    private final Channel server;
    private final Direction up;
    private final Direction down;
    private final long idleNanos;
    private IoRegistration clientRegistration;
    private IoRegistration serverRegistration;
    private ScheduledFuture<?> idleCheck;
    private long lastActivity;
    private boolean closed;
    private boolean live;

    private SpliceRelay(Channel client, Channel server, LongAdder sent, LongAdder received, long idleNanos) {
        this.loop = (IoEventLoop) client.eventLoop();
        this.client = client;
        this.server = server;
        this.up = new Direction("client->server", socket(client), socket(server), sent);
        this.down = new Direction("server->client", socket(server), socket(client), received);
        this.idleNanos = idleNanos;
    }

    private static Socket socket(Channel ch) {
        return (Socket) ((UnixChannel) ch).fd();
    }

    /**
     * Takes two connected epoll channels of one event loop off Netty's epoll set and splices between them. Must
     * run on that event loop. Bytes the channels read before (see {@link HeldBytes}) go out first.
     *
     * @param sent     counts bytes from client to server
     * @param received counts bytes from server to client
     * @param idle     zero for no idle timeout
     */
    static void start(Channel client, HeldBytes clientHeld, Channel server, HeldBytes serverHeld,
                      LongAdder sent, LongAdder received, long idle, TimeUnit unit) {
        SpliceRelay relay = new SpliceRelay(client, server, sent, received, unit.toNanos(idle));
        client.closeFuture().addListener(f -> relay.close("client closed"));
        server.closeFuture().addListener(f -> relay.close("server closed"));
        // Deregistration runs later on the loop; reads until then land in the HeldBytes handlers.
        client.deregister().addListener(f -> server.deregister().addListener(g -> {
            relay.up.held = clientHeld.take();
            relay.down.held = serverHeld.take();
            // A FIN already seen: the source has nothing more to report, so look at it once more ourselves.
            relay.up.hungUp = relay.up.readable = clientHeld.fin();
            relay.down.hungUp = relay.down.readable = serverHeld.fin();
            if (!f.isSuccess() || !g.isSuccess()) {
                relay.close("deregistration failed: " + (f.isSuccess() ? g.cause() : f.cause()));
            } else if (relay.loop.isShuttingDown()) {
                // Neither Netty nor the relay would close these channels when the loop goes.
                relay.close("event loop shutting down");
            }
            if (relay.closed) {
                relay.up.releaseHeld();
                relay.down.releaseHeld();
                return;
            }
            if (relay.up.held != null || relay.down.held != null) {
                STARTED_WITH_HELD_BYTES.increment();
                log.debug("splice relay {} starts with bytes read before: client {}{}, server {}{}", client,
                        relay.up.held == null ? 0 : relay.up.held.size(), relay.up.hungUp ? " and FIN" : "",
                        relay.down.held == null ? 0 : relay.down.held.size(), relay.down.hungUp ? " and FIN" : "");
            }
            relay.register();
        }));
    }

    private void register() {
        register(new Handle(up.src, up, down), r -> {
            clientRegistration = r;
            register(new Handle(down.src, down, up), r2 -> {
                serverRegistration = r2;
                arm();
            });
        });
    }

    /** Registers one socket; {@code then} runs only when that worked and the relay is still open. */
    private void register(Handle handle, Consumer<IoRegistration> then) {
        loop.register(handle).addListener((Future<IoRegistration> f) -> {
            if (!f.isSuccess()) {
                close("registration failed: " + f.cause());
                return;
            }
            IoRegistration registration = f.getNow();
            if (closed) {
                // Closed meanwhile: a registration left behind would outlive its descriptor number.
                registration.cancel();
                return;
            }
            then.accept(registration);
        });
    }

    /** Both sockets registered: ask for their events once, for good, and start. */
    private void arm() {
        if (closed) {
            return;
        }
        EpollIoOps ops = EpollIoOps.valueOf(INTEREST);
        try {
            clientRegistration.submit(ops);
            serverRegistration.submit(ops);
        } catch (RuntimeException e) {
            // epoll_ctl refused (max_user_watches, memory): nothing would ever wake this relay.
            close("epoll registration failed: " + e);
            return;
        }
        live = true;
        LIVE.incrementAndGet();
        lastActivity = System.nanoTime();
        if (idleNanos > 0) {
            scheduleIdleCheck(idleNanos);
        }
        // Held bytes go out now; input already waiting is reported by the add itself.
        pump(up);
        pump(down);
    }

    /** Moves bytes one way until nothing moves or the budget is spent. */
    private void pump(Direction d) {
        if (closed || d.finSent) {
            return;
        }
        if (!d.src.isOpen() || !d.dst.isOpen()) {
            // Closed under us before the close future told us: never splice on a number that may be reused.
            close(d.name + ": socket closed");
            return;
        }
        int moved = 0;
        try {
            for (;;) {
                int in;
                try {
                    in = d.fill();
                } catch (IOException e) {
                    if (d.pipe == null) {
                        close(d.name + ": no pipe: " + e.getMessage()); // out of descriptors, say
                        return;
                    }
                    // The source reset: what its last read put in the pipe still goes out, as far as it can now.
                    while (d.drain() > 0) {
                        // keep draining
                    }
                    close(d.name + ": " + e.getMessage());
                    return;
                }
                int out = d.drain();
                if (d.eof && d.empty()) {
                    finish(d);
                    return;
                }
                if (in == 0 && out == 0) {
                    break;
                }
                moved += in + out;
                if (moved >= MAX_MOVED_PER_WAKE) {
                    if (!d.resumeScheduled) {
                        d.resumeScheduled = true;
                        loop.execute(() -> {
                            d.resumeScheduled = false;
                            pump(d);
                        });
                    }
                    break;
                }
            }
        } catch (IOException e) {
            // A reset or a closed peer: what this direction still held cannot be delivered any more.
            close(d.name + ": " + e.getMessage());
            return;
        } catch (RuntimeException e) {
            // Netty maps some errno values (ENOTCONN) to unchecked exceptions; one must not escape into the
            // event loop, which would drop the rest of its batch of events.
            log.warn("splice relay {} -> {}: {}", client, server, e.toString());
            close(d.name + ": " + e);
            return;
        }
        d.returnPipeIfEmpty();
        if (moved > 0) {
            lastActivity = System.nanoTime();
        }
    }

    /** The source finished and everything it sent was written: pass the FIN on. */
    private void finish(Direction d) throws IOException {
        d.finSent = true;
        d.returnPipeIfEmpty();
        if (d.errored) {
            close(d.name + ": reset at end of input");
            return;
        }
        Direction other = d == up ? down : up;
        if (other.finSent) {
            close(null);
        } else {
            d.dst.shutdown(false, true);
        }
    }

    private void scheduleIdleCheck(long nanos) {
        idleCheck = loop.schedule(this::checkIdle, nanos, TimeUnit.NANOSECONDS);
    }

    private void checkIdle() {
        if (closed) {
            return;
        }
        long left = idleNanos - (System.nanoTime() - lastActivity);
        if (left > 0) {
            scheduleIdleCheck(left);
        } else {
            close("idle");
        }
    }

    private void close(String why) {
        if (closed) {
            return;
        }
        closed = true;
        if (live) {
            LIVE.decrementAndGet();
        }
        if (log.isDebugEnabled()) {
            log.debug("splice relay {} -> {} ends: {}; {} bytes up, {} down", client, server,
                    why == null ? "both directions finished" : why, up.moved, down.moved);
        }
        if (idleCheck != null) {
            idleCheck.cancel(false);
        }
        // Off the epoll set before the sockets close, so that a reused descriptor number cannot reach this relay.
        cancelRegistrations();
        up.dropPipe();
        down.dropPipe();
        up.releaseHeld();
        down.releaseHeld();
        client.close();
        server.close();
    }

    private void cancelRegistrations() {
        if (clientRegistration != null) {
            clientRegistration.cancel();
        }
        if (serverRegistration != null) {
            serverRegistration.cancel();
        }
    }

    /** One socket on the relay's epoll set: the source of one direction and the destination of the other. */
    private final class Handle implements EpollIoHandle {
        private final Socket socket;
        private final Direction reading;
        private final Direction writing;

        Handle(Socket socket, Direction reading, Direction writing) {
            this.socket = socket;
            this.reading = reading;
            this.writing = writing;
        }

        @Override
        public FileDescriptor fd() {
            return socket;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            int ops = ((EpollIoEvent) event).ops().value();
            if ((ops & (Native.EPOLLERR | EPOLLHUP)) != 0 && reading.finSent) {
                // A reset after this side's FIN: no splice would see it, since nothing is read from this
                // socket any more and nothing may be waiting to be written to it.
                SpliceRelay.this.close(reading.name + ": reset after end of input");
                return;
            }
            if ((ops & HANG_UP) != 0) {
                reading.hungUp = true;
            }
            if ((ops & Native.EPOLLERR) != 0) {
                // A FIN and then a reset: the reads see the FIN first, and nothing would look at this socket again.
                reading.errored = true;
            }
            if ((ops & (Native.EPOLLIN | HANG_UP)) != 0) {
                reading.readable = true;
                pump(reading);
            }
            if ((ops & (Native.EPOLLOUT | HANG_UP)) != 0) {
                pump(writing);
            }
        }

        @Override
        public void close() {
            // The event loop is shutting down.
            SpliceRelay.this.close("event loop closing");
        }
    }

    /** One way through the relay: source socket, pipe, destination socket. */
    private static final class Direction {
        final String name;
        final Socket src;
        final Socket dst;
        /** The server's byte counter for this way (the metric). */
        final LongAdder counted;
        /** This connection's bytes this way, for the log. */
        long moved;
        /** Held only while bytes sit in it, otherwise back in the loop's {@link PipePool}. */
        PipePool.Pipe pipe;
        /** Bytes read before splicing began, written before anything from the pipe. */
        ArrayDeque<ByteBuf> held;
        int inPipe;
        /** The source reported a hang-up: a splice that moves nothing from an empty pipe now means end of input. */
        boolean hungUp;
        /** The source reported an error (a reset): once its input ends, the relay ends too. */
        boolean errored;
        /**
         * The source may have bytes: set by its input events, cleared when a splice finds it empty. Starts false
         * because adding a socket to epoll reports input that is already waiting.
         */
        boolean readable;
        boolean eof;
        boolean finSent;
        boolean resumeScheduled;

        Direction(String name, Socket src, Socket dst, LongAdder bytes) {
            this.name = name;
            this.src = src;
            this.dst = dst;
            this.counted = bytes;
        }

        boolean empty() {
            return inPipe == 0 && held == null;
        }

        /**
         * Source to pipe. Native.splice answers 0 both for EAGAIN (socket empty or pipe full) and for end of
         * input; with the pipe empty the pipe cannot be full, and after a hang-up the socket cannot be merely
         * empty, so 0 then means end of input.
         */
        int fill() throws IOException {
            if (eof || held != null || !readable) {
                return 0;
            }
            if (pipe == null) {
                pipe = PipePool.acquire();
            }
            int n = Native.splice(src.intValue(), -1, pipe.writeEnd().intValue(), -1, SPLICE_LEN);
            if (n > 0) {
                inPipe += n;
                counted.add(n);
                moved += n;
            } else if (inPipe == 0) {
                if (hungUp) {
                    eof = true;
                } else {
                    readable = false; // the next input event says when there is more
                }
            }
            return n;
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
            if (inPipe > 0) {
                int n = Native.splice(pipe.readEnd().intValue(), -1, dst.intValue(), -1, inPipe);
                inPipe -= n;
                written += n;
            }
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

        /** Gives an empty pipe back to the pool; one with bytes stuck in it is closed. */
        void returnPipeIfEmpty() {
            if (pipe != null && inPipe == 0) {
                PipePool.release(pipe);
                pipe = null;
            }
        }

        void dropPipe() {
            returnPipeIfEmpty();
            if (pipe != null) {
                pipe.close();
                pipe = null;
            }
        }
    }
}
