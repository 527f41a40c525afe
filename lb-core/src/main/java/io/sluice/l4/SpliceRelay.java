package io.sluice.l4;

import io.netty.channel.Channel;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins a client and its server with splice(2): bytes go socket -> pipe -> socket inside the kernel and never
 * enter a Java buffer. Netty 4.2.18 cannot do this itself (its epoll {@code spliceTo} stops after one pipe-load
 * once the peer's FIN is seen, and its interest changes cost an epoll_ctl each), so
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
 *
 * <p>This class is the relay's life (hand-over, registration, pumping, end); a {@link SpliceDirection} holds
 * each way's pipe and progress, a {@link SplicedSocket} each socket's epoll events, a {@link SpliceIdleTimer}
 * the idle timeout. All of it runs on the one event loop, hence plain fields.
 */
final class SpliceRelay {
    private static final Logger log = LoggerFactory.getLogger(SpliceRelay.class);

    /** Bytes one direction moves per wake-up (read plus written) before it yields the event loop to others. */
    private static final int MAX_MOVED_PER_WAKE = 2 << 20;
    /** What one read of {@link State#LINGERING} takes from the healthy side, to drop it. */
    private static final int DISCARD_LEN = 16 << 10;

    private enum State {
        /** Both channels are leaving Netty's epoll set; what they read meanwhile lands in their HeldBytes. */
        HANDING_OVER,
        /** The two sockets are being added to the loop's epoll set, one after the other. */
        REGISTERING,
        /** Registered and armed: epoll events drive the directions. {@link Splicer#liveRelays} counts these. */
        LIVE,
        /**
         * One side failed. The way towards the other side still writes what it has read (the pipe and held
         * bytes), then the relay lingers; nothing is read any more. The bytes were counted when read, so dropping
         * them would lose data the metrics say was relayed. {@link Splicer#liveRelays} still counts the relay.
         */
        DRAINING,
        /**
         * The drain is written and the healthy side has its FIN behind it; that side's input is read and dropped
         * until it ends (its FIN or an error) or the idle timeout, then the relay ends. Closing at once lost the
         * drain: Linux resets a socket closed with input unread, or one that input reaches after the close
         * (a client's byte to a server that has just reset), and a reset drops what the socket's send buffer still
         * holds, where the drained bytes are. {@link Splicer#liveRelays} still counts the relay.
         */
        LINGERING,
        CLOSED
    }

    private final Splicer splicer;
    private final IoEventLoop loop;
    private final Channel client;
    private final Channel server;
    private final SpliceDirection up;
    private final SpliceDirection down;
    private final SplicedSocket clientSocket;
    private final SplicedSocket serverSocket;
    /** Null without an idle timeout. */
    private final SpliceIdleTimer idleTimer;
    private State state = State.HANDING_OVER;
    /** In {@link State#DRAINING} and {@link State#LINGERING}: the way still writing, and why the relay ends. */
    private SpliceDirection draining;
    private String drainingWhy;
    /** Where {@link State#LINGERING} reads what it drops; made only then. */
    private ByteBuffer discard;

    private SpliceRelay(Splicer splicer, PipePool pool, Channel client, Channel server, LongAdder sent,
                        LongAdder received, long idleNanos) {
        this.splicer = splicer;
        this.loop = (IoEventLoop) client.eventLoop();
        this.client = client;
        this.server = server;
        this.up = new SpliceDirection("client->server", socket(client), socket(server), sent, pool);
        this.down = new SpliceDirection("server->client", socket(server), socket(client), received, pool);
        this.clientSocket = new SplicedSocket(this, up, down);
        this.serverSocket = new SplicedSocket(this, down, up);
        this.idleTimer = idleNanos > 0 ? new SpliceIdleTimer(this, loop, idleNanos) : null;
    }

    private static Socket socket(Channel ch) {
        return (Socket) ((UnixChannel) ch).fd();
    }

    /**
     * What {@link Splicer#start} does; {@code pool} holds the pipes of the channels' event loop.
     *
     * @param idleNanos zero for no idle timeout
     */
    static void start(Splicer splicer, PipePool pool, Channel client, HeldBytes clientHeld, Channel server,
                      HeldBytes serverHeld, LongAdder sent, LongAdder received, long idleNanos) {
        SpliceRelay relay = new SpliceRelay(splicer, pool, client, server, sent, received, idleNanos);
        client.closeFuture().addListener(f -> relay.close("client closed"));
        server.closeFuture().addListener(f -> relay.close("server closed"));
        // Deregistration runs later on the loop; reads until then land in the HeldBytes handlers.
        client.deregister().addListener(f -> server.deregister().addListener(g -> relay.handedOver(clientHeld,
                serverHeld, f.isSuccess() && g.isSuccess() ? null
                        : "deregistration failed: " + (f.isSuccess() ? g.cause() : f.cause()))));
    }

    /** Both channels are off Netty's epoll set; {@code failure} is null when both deregistrations worked. */
    private void handedOver(HeldBytes clientHeld, HeldBytes serverHeld, String failure) {
        up.handOver(clientHeld.take(), clientHeld.fin());
        down.handOver(serverHeld.take(), serverHeld.fin());
        if (failure != null) {
            close(failure);
        } else if (loop.isShuttingDown()) {
            // Neither Netty nor the relay would close these channels when the loop goes.
            close("event loop shutting down");
        }
        if (state == State.CLOSED) {
            // A close future may have ended the relay before these bytes were handed over to it.
            up.releaseHeld();
            down.releaseHeld();
            return;
        }
        if (up.heldBuffers() > 0 || down.heldBuffers() > 0) {
            splicer.relayStartedWithHeldBytes();
            log.debug("splice relay {} starts with bytes read before: client {}{}, server {}{}", client,
                    up.heldBuffers(), up.state() == SpliceDirection.State.HUNG_UP ? " and FIN" : "",
                    down.heldBuffers(), down.state() == SpliceDirection.State.HUNG_UP ? " and FIN" : "");
        }
        state = State.REGISTERING;
        clientSocket.register(loop, () -> serverSocket.register(loop, this::arm));
    }

    /** Both sockets registered: ask for their events once, for good, and start. */
    private void arm() {
        if (state == State.CLOSED) {
            return;
        }
        try {
            clientSocket.arm();
            serverSocket.arm();
        } catch (RuntimeException e) {
            // epoll_ctl refused (max_user_watches, memory): nothing would ever wake this relay.
            close("epoll registration failed: " + e);
            return;
        }
        state = State.LIVE;
        splicer.relayLive();
        if (idleTimer != null) {
            idleTimer.start();
        }
        // Held bytes go out now; input already waiting is reported by the add itself.
        pump(up);
        pump(down);
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    /** Moves bytes one way until nothing moves or the budget is spent. */
    void pump(SpliceDirection d) {
        if (state == State.DRAINING) {
            if (d == draining) {
                drainRest();
            }
            return;
        }
        if (state == State.LINGERING) {
            if (d != draining) {
                // The way that reads the healthy side: its input event, or its hang-up.
                discardRest();
            }
            return;
        }
        if (state == State.CLOSED || d.finSent()) {
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
                    if (!d.hasPipe()) {
                        close(d.name + ": no pipe: " + e.getMessage()); // out of descriptors, say
                        return;
                    }
                    // The source reset: what its last reads put in the pipe still goes out.
                    drainThenClose(d, d.name + ": " + e.getMessage());
                    return;
                }
                int out = d.drain();
                if (d.endedAndEmpty()) {
                    finish(d);
                    return;
                }
                if (in == 0 && out == 0) {
                    break;
                }
                moved += in + out;
                if (moved >= MAX_MOVED_PER_WAKE) {
                    resumeLater(d);
                    break;
                }
            }
        } catch (IOException e) {
            // This way's destination reset or closed: what this way still holds cannot be delivered any more,
            // but what the other way has read from that side can, to this way's source.
            drainThenClose(d == up ? down : up, d.name + ": " + e.getMessage());
            return;
        } catch (RuntimeException e) {
            // Netty maps some errno values (ENOTCONN) to unchecked exceptions; one must not escape into the
            // event loop, which would drop the rest of its batch of events.
            log.warn("splice relay {} -> {}: {}", client, server, e.toString());
            close(d.name + ": " + e);
            return;
        }
        d.returnPipeIfEmpty();
        if (moved > 0 && idleTimer != null) {
            idleTimer.touch();
        }
    }

    /** {@code d} spent its budget for this wake-up: it goes on in a task of its own, behind the loop's others. */
    private void resumeLater(SpliceDirection d) {
        if (!d.resumeScheduled) {
            d.resumeScheduled = true;
            loop.execute(() -> {
                d.resumeScheduled = false;
                pump(d);
            });
        }
    }

    /**
     * The source finished and everything it sent was written: pass the FIN on, or end the relay when the other
     * way had finished too. {@link RelayHandler#passFin} decides the same for the buffer relay but shares no
     * code with this on purpose: it must wait for write futures on both channels before it may shut or close
     * anything, while here an empty pipe is known at once. What the two have in common is one shutdown(2) and a
     * "both ways done" test, which a shared helper would only put behind an indirection on this path.
     */
    private void finish(SpliceDirection d) throws IOException {
        d.finPassedOn();
        d.returnPipeIfEmpty();
        if (d.wasReset()) {
            close(d.name + ": reset at end of input");
            return;
        }
        SpliceDirection other = d == up ? down : up;
        if (other.finSent()) {
            close(null);
        } else {
            d.dst.shutdown(false, true);
        }
    }

    /** One side failed ({@code why}): {@code way} writes what it holds, then the relay ends. */
    private void drainThenClose(SpliceDirection way, String why) {
        state = State.DRAINING;
        draining = way;
        drainingWhy = why;
        drainRest();
    }

    /** Writes what the draining way holds as far as its destination takes it now; ends the relay once empty. */
    private void drainRest() {
        try {
            while (draining.drain() > 0) {
                if (idleTimer != null) {
                    idleTimer.touch();
                }
            }
        } catch (IOException | RuntimeException e) {
            close(drainingWhy + ", then " + draining.name + ": " + e.getMessage());
            return;
        }
        if (draining.isEmpty()) {
            linger();
        }
        // Otherwise the destination's next output event (or the idle timeout) comes back here.
    }

    /** The drain is written: the healthy side gets its FIN behind it, and the relay waits for that side's end. */
    private void linger() {
        state = State.LINGERING;
        try {
            draining.dst.shutdown(false, true);
        } catch (IOException | RuntimeException e) {
            close(drainingWhy + ", then " + draining.name + ": " + e.getMessage());
            return;
        }
        // An input event that came while draining was ignored, and edge-triggered epoll does not repeat it.
        discardRest();
    }

    /**
     * Reads what the healthy side sends and drops it: it has nowhere to go, and was never counted. Its end (or an
     * error) ends the relay. The idle timer is not touched, so that a side that keeps sending cannot keep the
     * relay forever.
     */
    private void discardRest() {
        if (discard == null) {
            discard = ByteBuffer.allocateDirect(DISCARD_LEN);
        }
        SpliceDirection reading = draining == up ? down : up;
        try {
            int n;
            int dropped = 0;
            while ((n = draining.dst.read(discard, 0, DISCARD_LEN)) > 0) {
                dropped += n;
                if (dropped >= MAX_MOVED_PER_WAKE) {
                    resumeLater(reading);
                    return;
                }
            }
            if (n < 0) {
                close(drainingWhy);
            }
        } catch (IOException | RuntimeException e) {
            close(drainingWhy + ", then " + reading.name + ": " + e.getMessage());
        }
        // Otherwise the healthy side's next input event (or the idle timeout) comes back here.
    }

    /** Ends the relay once; {@code why} is for the log, null when both directions finished. */
    void close(String why) {
        if (state == State.CLOSED) {
            return;
        }
        if (state == State.LIVE || state == State.DRAINING || state == State.LINGERING) {
            splicer.relayEnded();
        }
        state = State.CLOSED;
        if (log.isDebugEnabled()) {
            log.debug("splice relay {} -> {} ends: {}; {} bytes up, {} down", client, server,
                    why == null ? "both directions finished" : why, up.moved, down.moved);
        }
        if (idleTimer != null) {
            idleTimer.cancel();
        }
        // Off the epoll set before the sockets close, so that a reused descriptor number cannot reach this relay.
        clientSocket.cancel();
        serverSocket.cancel();
        up.dropPipe();
        down.dropPipe();
        up.releaseHeld();
        down.releaseHeld();
        client.close();
        server.close();
    }
}
