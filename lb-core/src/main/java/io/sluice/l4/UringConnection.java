package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.SluiceSockets;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterQueue;
import io.sluice.cluster.Lease;
import io.sluice.cluster.LoopChannels;
import io.sluice.cluster.Server;
import io.sluice.cluster.Slot;
import io.sluice.net.Admission;
import io.sluice.net.ConnectionClock;
import io.sluice.net.UpstreamAttempts;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One TCP connection relayed on io_uring without Netty channels: the client's socket, the server's, one
 * registration with the loop, and a buffer per direction only while bytes are on their way. What the channel
 * relay ({@link ClientHandler}, {@link RelayHandler}) does for a plain listener, at a fraction of its cost per
 * connection: the same picks, retries, queue and slots ({@link UpstreamAttempts}), the same counts (the
 * listener's, the servers' connections, bytes, latency and connect errors), the idle and connect timeouts, and a
 * FIN passed on in each direction on its own.
 *
 * <p>Each direction waits for its socket to be readable (POLL_ADD), then takes a buffer and reads (RECV), sends
 * it all (SEND), gives the buffer back and waits again: an idle connection holds no buffer, and a side that cannot
 * take more stops the other side's reads (one buffer in flight per direction is the backpressure). Buffers grow
 * to {@link #MAX_BUFFER} while reads fill them and shrink when they do not.
 *
 * <p>A direction that streams (a read filled a buffer of {@link #SPLICE_AFTER} or more) goes on with splice(2)
 * instead: source to a pipe to destination inside the kernel, the bytes never copied into user space, which takes
 * half or more of the relay's CPU per MiB off ({@code docs/bench}). io_uring still says when to move (a POLL_ADD
 * on the source, or on the destination while the pipe cannot be emptied); the splices are plain system calls on
 * the loop, as in the epoll splice relay ({@link SpliceRelay}): io_uring's own SPLICE runs on worker threads. The
 * pipe comes from the loop's pool and goes back whenever it is empty and the direction waits for its source.
 *
 * <p>Everything runs on the accepting loop. A connection is closed only once the kernel has completed every
 * operation it submitted (the buffers and sockets are the kernel's until then): {@link #abort} shuts both
 * sockets down, which ends those operations, and {@link #finish} runs when the last completes. A connect in
 * flight is the exception: it runs to its end or its timeout, so that it counts for its server.
 */
final class UringConnection implements IoUringIoHandle, LoopChannels.Member {
    private static final Logger log = LoggerFactory.getLogger(UringConnection.class);

    static final int MIN_BUFFER = 16 * 1024;
    static final int MAX_BUFFER = 256 * 1024;
    /** A read that fills a buffer this big moves its direction to splice(2) (see the class comment). */
    static final int SPLICE_AFTER = 64 * 1024;
    /** Splicing needs Netty's epoll library for the system call; {@code -Dsluice.tcp.rawRelay.splice=false} stops it. */
    static final boolean SPLICE = Boolean.parseBoolean(System.getProperty("sluice.tcp.rawRelay.splice", "true"))
            && Epoll.isAvailable();
    /** Asked of each splice(2) into the pipe; the kernel moves at most the pipe's capacity (64 KiB) at a time. */
    private static final int SPLICE_LEN = 1 << 20;
    /** Bytes one direction splices per wake-up before a poll gives the loop's other work its turn. */
    private static final int SPLICE_PER_WAKE = 1 << 20;

    private enum Phase {
        /** Picking a server, or waiting in the cluster's queue for a slot on one. */
        PLACING,
        /** A CONNECT is in flight; bytes the client sends meanwhile wait in the upward buffer. */
        CONNECTING,
        RELAYING,
        /**
         * One socket failed: it is shut down, and what the other direction was sending to the healthy side goes
         * out before that side closes too (the channel relay flushes the same way). When the server failed and the
         * client may still send, what it sends meanwhile is read and dropped ({@link #clientDropped}), and the
         * client lingers once the drain is out.
         */
        DRAINING,
        /**
         * The server failed, the client has all it was sent, and its FIN behind it; what the client still sends is
         * read and dropped until its input ends (its FIN, an error) or the idle timeout, and then both close. Closing
         * it at once lost what it was sent: Linux resets a socket closed with input unread, or one that input reaches
         * after the close (the client's next bytes for the server that has just reset), and a reset drops what the
         * socket's send buffer still holds, megabytes of the server's last bytes. The reads are not activity for the
         * idle timer (armed at the failure), so a client that keeps sending cannot keep the connection for ever. The
         * connection still counts for the listener until it closes, as a lingering channel or splice relay does.
         */
        LINGERING,
        /** Both sockets shut down; waiting for the kernel to complete what it still holds. */
        CLOSING,
        CLOSED
    }

    /** What one direction is doing; its buffer is held only while READING or SENDING. */
    private enum Flow { WAITING, READING, SENDING, HELD, ENDED }

    // Operation tags: the kind in the low bits, DOWN set for the server-to-client direction.
    private static final short CONNECT = 1;
    private static final short POLL = 2;
    private static final short RECV = 3;
    private static final short SEND = 4;
    /** A spliced direction waits for its destination to take the rest of the pipe. */
    private static final short WRITABLE = 5;
    private static final short DOWN = 0x10;

    private final UringAcceptor acceptor;
    private final Admission admission;
    private final LoopChannels listenerConnections;
    private final ByteBufAllocator allocator;
    private final int clientFd;
    private final Direction up = new Direction(false);
    private final Direction down = new Direction(true);
    private final long idleNanos;
    private IoRegistration registration;
    /** The loop's empty pipes, for directions that splice. */
    private PipePool pipes;
    private int inFlight;
    private Phase phase = Phase.PLACING;

    private Cluster cluster;
    private UpstreamAttempts attempts;
    private int serverFd = -1;
    private Server target;
    private Slot slot;
    private Lease lease;
    private long connectStart;
    private boolean inServerSet;
    private Runnable clientRelease;
    private ClusterQueue.Waiter queued;
    private ConnectionClock clock;
    private ConnectionClock.Timer idle;
    private ConnectionClock.Timer connectTimer;
    /** The connect timer shut the server socket down: a CONNECT that completes now anyway has failed. */
    private boolean connectTimedOut;
    /** A CONNECT is in flight (in {@link Phase#CONNECTING}, or after the client left). */
    private boolean connecting;
    /** The client's share of the listener (its open count, its per-IP count) is given back already. */
    private boolean clientReleased;
    /** The direction that still sends to the healthy side while {@link Phase#DRAINING}. */
    private Direction draining;
    /**
     * The server failed while the client could still send: what the client sends from then on ({@link #up}'s
     * reads) is read and dropped, in {@link Phase#DRAINING} and {@link Phase#LINGERING}.
     */
    private boolean clientDropped;

    private UringConnection(UringAcceptor acceptor, int clientFd, Admission admission, LoopChannels connections,
                            ByteBufAllocator allocator, long idleNanos) {
        this.acceptor = acceptor;
        this.clientFd = clientFd;
        this.admission = admission;
        this.listenerConnections = connections;
        this.allocator = allocator;
        this.idleNanos = idleNanos;
    }

    /** Takes the accepted socket {@code fd} and relays it to a server of {@code cluster}; on the acceptor's loop. */
    static void start(UringAcceptor acceptor, int fd, Cluster cluster, Admission admission, LoopChannels connections,
                      ByteBufAllocator allocator, long idleNanos) {
        UringConnection c = new UringConnection(acceptor, fd, admission, connections, allocator, idleNanos);
        try {
            c.begin(cluster);
        } catch (Throwable t) {
            c.failed(t);
        }
    }

    /** Something threw on this connection's path (out of direct memory, say): it closes, the loop goes on. */
    private void failed(Throwable t) {
        log.warn("relayed connection failed, closing it", t);
        if (registration == null) {
            closeFd(clientFd);
            phase = Phase.CLOSED;
            return;
        }
        try {
            abort();
        } catch (Throwable again) {
            log.warn("closing a failed relayed connection failed too", again);
        }
    }

    private void begin(Cluster target) {
        registration = acceptor.loop().register(this).getNow();
        pipes = RelayPipes.of(acceptor.loop());
        if (registration == null) {
            // Only a loop shutting down refuses: the connection never counted.
            closeFd(clientFd);
            phase = Phase.CLOSED;
            return;
        }
        listenerConnections.add(this);
        if (!admission.open()) {
            finish();
            return;
        }
        InetSocketAddress source = null;
        if (admission.limitsClients() || target.hashKey() != null) {
            // A getpeername only for what reads the address: per-client limits, hashing by source.
            source = new Socket(clientFd).remoteAddress(); // null for a client gone already: no limit, as for channels
        }
        clientRelease = admission.admitClient(source == null ? null : source.getAddress());
        if (clientRelease == null) {
            finish();
            return;
        }
        if (idleNanos > 0 || target.config().connectTimeout().toNanos() > 0) {
            clock = new ConnectionClock(acceptor.loop());
        }
        if (idleNanos > 0) {
            idle = new ConnectionClock.Timer(clock) {
                @Override
                protected void expired() {
                    UringConnection.this.close(false);
                }
            };
            idle.arm(idleNanos);
        }
        cluster = target;
        attempts = new UpstreamAttempts(source);
        attempts.begin(target);
        if (target.hashKey() != null) {
            target.hashKey().applySource(attempts.context());
        }
        up.read();
        place();
    }

    /** Picks a server and connects, or queues for one, or gives up (no server to try). */
    private void place() {
        Server s = attempts.next();
        if (s == null) {
            if (attempts.sawFull()) {
                queue();
                return;
            }
            admission.stats().countNoServer();
            abort();
            return;
        }
        connect(s, attempts.takeSlot());
    }

    private void queue() {
        ClusterQueue.Waiter w = new ClusterQueue.Waiter(acceptor.loop(), null) {
            @Override
            protected void granted(Slot granted) {
                if (queued != this || phase != Phase.PLACING) {
                    granted.close();
                    return;
                }
                queued = null;
                connect(attempts.granted(granted), granted);
            }

            @Override
            protected void timedOut() {
                queued = null;
                abort();
            }
        };
        if (cluster.queue().enqueue(w)) {
            queued = w;
        } else {
            abort();
        }
    }

    private void connect(Server s, Slot taken) {
        target = s;
        slot = taken;
        InetSocketAddress address = s.resolved();
        lease = s.beginConnection();
        connectStart = System.nanoTime();
        try {
            serverFd = SluiceSockets.newServerSocket(address.getAddress() instanceof Inet6Address);
        } catch (Exception e) {
            connectFailed(e.toString());
            return;
        }
        phase = Phase.CONNECTING;
        connectTimedOut = false;
        if (clock != null) {
            if (connectTimer == null) {
                connectTimer = new ConnectionClock.Timer(clock) {
                    @Override
                    protected void expired() {
                        // Ends the CONNECT with an error; its completion counts the failure and retries.
                        connectTimedOut = true;
                        shutdownQuietly(serverFd);
                    }
                };
            }
            connectTimer.arm(cluster.config().connectTimeout().toNanos());
        }
        ByteBuffer sockaddr = acceptor.addresses().of(address);
        connecting = true;
        // The address's length goes where a CONNECT takes it, in the entry's offset field.
        UringOps.submit(registration, UringOps.CONNECT, (short) 0, serverFd, UringOps.SocketAddresses.length(sockaddr),
                UringOps.SocketAddresses.address(sockaddr), 0, 0, CONNECT);
        inFlight++;
    }

    private void connected(int res) {
        if (connectTimer != null) {
            connectTimer.disarm();
        }
        if (res < 0 || connectTimedOut) {
            connectFailed(res < 0 ? "error " + -res : "timed out");
            return;
        }
        Server s = target;
        s.totalConnections().increment();
        s.recordLatency(System.nanoTime() - connectStart);
        s.connections().add(this);
        inServerSet = true;
        cluster.reportConnectSuccess(s);
        phase = Phase.RELAYING;
        down.read();
        up.connected();
    }

    /** The connect to {@link #target} failed: counted as the channel relay counts it, then another try or the end. */
    private void connectFailed(String why) {
        Server s = target;
        lease.close();
        lease = null;
        s.connectErrors().increment();
        cluster.reportConnectFailure(s);
        log.debug("connect to {} failed: {}", s, why);
        slot.close();
        slot = null;
        closeServer();
        phase = Phase.PLACING;
        if (attempts.connectFailed(s)) {
            place();
        } else {
            admission.stats().countNoServer();
            abort();
        }
    }

    private void closeServer() {
        if (serverFd >= 0) {
            SluiceSockets.close(serverFd);
            serverFd = -1;
        }
    }

    /** One direction of the relay: reads from one socket, sends to the other. */
    private final class Direction {
        private final boolean isDown;
        private final short tag;
        private Flow flow = Flow.WAITING;
        private ByteBuf buf;
        private long address;
        private int offset;
        private int end;
        private int size = MIN_BUFFER;
        private boolean fin;
        /** The poll saw the source's FIN (POLLRDHUP): a read that does not fill its buffer takes its last bytes. */
        private boolean finQueued;
        /** These bytes are the source's last: the FIN goes on right after them, in the same segment. */
        private boolean last;
        /** The last read filled a buffer of {@link #SPLICE_AFTER} or more: after its send, splice. */
        private boolean streams;
        /** Moves bytes with splice(2) from now on (only while {@link Phase#RELAYING}). */
        private boolean spliced;
        /**
         * Made at the direction's first splice; holds a pipe while bytes sit in it or a splice runs, and gives it
         * back to the pool while the source is waited for.
         */
        private HeldPipe pipe;

        Direction(boolean isDown) {
            this.isDown = isDown;
            this.tag = isDown ? DOWN : 0;
        }

        private int from() {
            return isDown ? serverFd : clientFd;
        }

        private int to() {
            return isDown ? clientFd : serverFd;
        }

        private LongAdder bytes() {
            return isDown ? target.bytesReceived() : target.bytesSent();
        }

        /** Waits for the source to be readable; the buffer is taken only then. */
        void read() {
            flow = Flow.READING;
            submit(UringOps.POLL_ADD, from(), 0L, 0, UringOps.POLLIN | UringOps.POLLRDHUP, (short) (POLL | tag));
        }

        void polled(int res) {
            if (res < 0) {
                broke(isDown);
                return;
            }
            if (spliced) {
                pump((res & (UringOps.POLLRDHUP | UringOps.POLLHUP)) != 0);
                return;
            }
            finQueued = (res & UringOps.POLLRDHUP) != 0;
            buf = SpareReadBuffers.take(allocator, size);
            address = buf.memoryAddress();
            submit(UringOps.RECV, from(), address, size, 0, (short) (RECV | tag));
        }

        void received(int res) {
            if (res < 0) {
                broke(isDown);
                return;
            }
            if (res == 0) {
                release();
                inputEnded();
                return;
            }
            if (idle != null) {
                idle.arm(idleNanos);
            }
            // The FIN came before this read, and the read did not fill its buffer: the receive queue is empty and
            // the next read would only see the end. The bytes go out with the FIN, sparing a poll, a read, and the
            // FIN's own segment (with the receiver's ACK of the bytes before it).
            last = finQueued && res < size;
            streams = res == size && size >= SPLICE_AFTER;
            size = nextSize(size, res);
            offset = 0;
            end = res;
            if (phase == Phase.RELAYING) {
                send();
            } else {
                flow = Flow.HELD; // the client's first bytes, sent once connected
            }
        }

        /** The source's input ended: pass its FIN on, or hold it until the server is connected. */
        private void inputEnded() {
            fin = true;
            if (phase == Phase.RELAYING) {
                passFin();
            } else {
                flow = Flow.HELD; // the client's FIN, passed on once connected
            }
        }

        /** The server is connected: what the client sent or ended meanwhile goes out now. */
        void connected() {
            if (flow != Flow.HELD) {
                return;
            }
            if (fin) {
                passFin();
            } else {
                send();
            }
        }

        private void send() {
            bytes().add(end - offset);
            sendRest();
        }

        private void sendRest() {
            flow = Flow.SENDING;
            int flags = last ? UringOps.MSG_NOSIGNAL | UringOps.MSG_MORE : UringOps.MSG_NOSIGNAL;
            submit(UringOps.SEND, to(), address + offset, end - offset, flags, (short) (SEND | tag));
        }

        void sent(int res) {
            if (res < 0) {
                release(); // the bytes have nowhere to go
                flow = Flow.WAITING; // nothing in flight: see broke
                broke(!isDown);
                return;
            }
            offset += res;
            if (offset < end) {
                sendRest();
                return;
            }
            release();
            if (phase == Phase.DRAINING) {
                // The healthy side has it all: the client lingers when the server failed, else both close.
                if (clientDropped) {
                    linger();
                } else {
                    abort();
                }
                return;
            }
            if (last) {
                inputEnded(); // the shutdown puts the FIN on the segment MSG_MORE held back
            } else if (streams && SPLICE && phase == Phase.RELAYING) {
                spliced = true;
                pump(false); // the stream's next bytes are most likely there already
            } else {
                read();
            }
        }

        /**
         * Splices source to pipe to destination until the source is empty (then a poll waits for it), the
         * destination is full (a poll waits for that), the input ends (the FIN goes on), or this wake-up's share
         * is spent. The pipe is empty whenever this starts, so a splice into it that moves nothing means an empty
         * source or, once the poll saw the FIN ({@code hungUp}), the end of input.
         */
        private void pump(boolean hungUp) {
            flow = Flow.READING; // not SENDING: a failure now finds nothing of this direction's on its way
            if (pipe == null) {
                pipe = new HeldPipe(pipes);
            }
            int moved = 0;
            while (moved < SPLICE_PER_WAKE) {
                int n;
                try {
                    n = pipe.fill(from(), SPLICE_LEN);
                } catch (IOException | RuntimeException e) {
                    if (!pipe.taken()) {
                        // No pipe could be opened (out of descriptors, say): this direction goes on through buffers.
                        log.debug("no pipe to splice with: {}", e.toString());
                        spliced = false;
                        read();
                        return;
                    }
                    // The source failed (a reset); the pipe is empty, as whenever a splice into it starts.
                    log.debug("splice from {} failed: {}", isDown ? "server" : "client", e.toString());
                    pipe.returnIfEmpty();
                    broke(isDown);
                    return;
                }
                if (n == 0) {
                    pipe.returnIfEmpty();
                    if (hungUp) {
                        inputEnded();
                    } else {
                        read();
                    }
                    return;
                }
                bytes().add(n);
                moved += n;
                if (idle != null) {
                    idle.arm(idleNanos);
                }
                if (!drainPipe()) {
                    return;
                }
            }
            pipe.returnIfEmpty();
            read(); // completes at once when more is there, after what else the loop has to do
        }

        /** Pipe to destination; false when the destination is full (a poll waits) or failed. */
        private boolean drainPipe() {
            while (pipe.bytes() > 0) {
                int n;
                try {
                    n = pipe.drain(to());
                } catch (IOException | RuntimeException e) {
                    log.debug("splice to {} failed: {}", isDown ? "client" : "server", e.toString());
                    dropPipe(); // what it holds has nowhere to go
                    flow = Flow.WAITING; // nothing in flight: see broke
                    broke(!isDown);
                    return false;
                }
                if (n == 0) {
                    flow = Flow.SENDING;
                    submit(UringOps.POLL_ADD, to(), 0L, 0, UringOps.POLLOUT, (short) (WRITABLE | tag));
                    return false;
                }
            }
            return true;
        }

        /** The destination can take more of the pipe (or has failed, which the next splice finds). */
        void writable(int res) {
            if (res < 0) {
                dropPipe();
                flow = Flow.WAITING;
                broke(!isDown);
                return;
            }
            if (!drainPipe()) {
                return;
            }
            if (phase == Phase.DRAINING) {
                pipe.returnIfEmpty();
                flow = Flow.WAITING;
                if (clientDropped) {
                    linger();
                } else {
                    abort();
                }
                return;
            }
            pump(false);
        }

        /** An empty pipe goes back to the pool; one with bytes stuck in it is closed. */
        void dropPipe() {
            if (pipe != null) {
                pipe.drop();
            }
        }

        /**
         * The server failed while this (the client's) direction spliced: what the client sends from now on is read
         * into buffers and dropped, and what the pipe held for the server is dropped with it.
         */
        void stopSplicing() {
            spliced = false;
            dropPipe();
        }

        /**
         * Passes the FIN on with shutdown(2) on the loop: io_uring runs a SHUTDOWN on one of its worker threads,
         * a thread hand-off per FIN.
         */
        private void passFin() {
            flow = Flow.ENDED;
            if (SluiceSockets.shutdown(to(), false, true) < 0) {
                abort(); // the peer is gone already
            }
        }

        /**
         * A completion of the client's direction once its server failed ({@link #clientDropped}): the client is
         * read until its input ends, and what it sends is dropped.
         */
        void afterServerFailed(int kind, int res) {
            switch (kind) {
                case POLL -> polled(res); // an error closes (broke), else a RECV
                case RECV -> dropped(res);
                case SEND, WRITABLE -> {
                    // A send to the server, in flight when it failed: its bytes have nowhere to go.
                    release();
                    read();
                }
                default -> throw new IllegalStateException("unknown operation " + kind);
            }
        }

        /**
         * Drops what a read of the client took after its server failed. Not counted (the bytes went nowhere), and
         * not activity: the idle timer is left alone, so a client that keeps sending is still closed by it.
         */
        private void dropped(int res) {
            if (res < 0) {
                broke(isDown); // the client failed: nothing more to wait for
                return;
            }
            release();
            if (res == 0 || finQueued && res < size) {
                // Its FIN (the read that did not fill its buffer after the poll saw the FIN took the last bytes).
                flow = Flow.ENDED;
                clientInputEnded();
                return;
            }
            size = nextSize(size, res);
            read();
        }

        boolean sending() {
            return flow == Flow.SENDING;
        }

        void release() {
            if (buf != null) {
                SpareReadBuffers.give(buf);
                buf = null;
            }
        }

        boolean ended() {
            return flow == Flow.ENDED;
        }
    }

    /** Doubles after a read that filled the buffer, halves after one that used under a quarter of it. */
    static int nextSize(int size, int read) {
        if (read == size) {
            return Math.min(MAX_BUFFER, size << 1);
        }
        if (read < size >> 2) {
            return Math.max(MIN_BUFFER, size >> 1);
        }
        return size;
    }

    private void submit(byte op, int fd, long addr, int len, int opFlags, short data) {
        UringOps.submit(registration, op, fd, addr, len, opFlags, data);
        inFlight++;
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        try {
            handle((IoUringIoEvent) event);
        } catch (Throwable t) {
            failed(t);
        }
    }

    private void handle(IoUringIoEvent e) {
        inFlight--;
        if (e.data() == CONNECT) {
            connecting = false;
        }
        if (phase == Phase.CLOSING || phase == Phase.CLOSED) {
            if (e.data() == CONNECT && phase == Phase.CLOSING) {
                connectOutlivedClient(e.res());
            }
            finishIfDone();
            return;
        }
        int res = e.res();
        Direction d = (e.data() & DOWN) != 0 ? down : up;
        if (phase == Phase.DRAINING || phase == Phase.LINGERING) {
            int kind = e.data() & ~DOWN;
            if (d == draining && kind == SEND) {
                d.sent(res);
            } else if (d == draining && kind == WRITABLE) {
                d.writable(res);
            } else if (d == up && clientDropped) {
                up.afterServerFailed(kind, res);
            }
            // Otherwise an operation on the failed socket, ended by its shutdown: its bytes have nowhere to go.
            finishIfDone();
            return;
        }
        switch (e.data() & ~DOWN) {
            case CONNECT -> connected(res);
            case POLL -> d.polled(res);
            case RECV -> d.received(res);
            case SEND -> d.sent(res);
            case WRITABLE -> d.writable(res);
            default -> throw new IllegalStateException("unknown operation " + e.data());
        }
        endIfBothFinsPassed();
    }

    private void endIfBothFinsPassed() {
        if (up.ended() && down.ended() && phase == Phase.RELAYING) {
            phase = Phase.CLOSING; // both FINs passed on: nothing more to relay
            finishIfDone();
        }
    }

    /**
     * The server's socket ({@code serverSide}) or the client's failed (a reset, a send to a peer that left).
     * What the other direction is sending to the healthy side still goes out; then both close, or, when the
     * server failed and the client's input has not ended, the client lingers ({@link Phase#LINGERING}) and what it
     * sends is dropped from now on. The server's share (its slot, its count) is given back at once, as the channel
     * relay gives it back when the server's channel closes.
     */
    private void broke(boolean serverSide) {
        if (phase != Phase.RELAYING) {
            close(false); // the client went while its server was being found or connected, or while it lingered
            return;
        }
        Direction toHealthy = serverSide ? down : up;
        boolean linger = serverSide && !up.ended();
        if (!toHealthy.sending() && !linger) {
            abort();
            return;
        }
        if (idle != null) {
            // A healthy side that never reads, or a client that keeps sending, is closed after idle_timeout.
            idle.arm(idleNanos);
        }
        shutdownQuietly(serverSide ? serverFd : clientFd);
        if (serverSide) {
            releaseServerShare();
        }
        if (linger) {
            clientDropped = true;
            up.stopSplicing();
            if (up.flow == Flow.WAITING) {
                up.read(); // its send to the server failed; any other state has an operation in flight
            }
        }
        if (toHealthy.sending()) {
            phase = Phase.DRAINING;
            draining = toHealthy;
        } else {
            linger(); // nothing on its way to the client: what the kernel still holds for it is why it lingers
        }
    }

    /**
     * The server failed and the client has what was on its way: its FIN goes out behind it (unless the server's
     * went already), and the client's input is read until it ends.
     */
    private void linger() {
        phase = Phase.LINGERING;
        if (!down.ended()) {
            down.passFin();
            if (phase != Phase.LINGERING) {
                return; // the client is gone already (passFin closed)
            }
        }
        if (up.ended()) {
            abort(); // its input ended while the drain went out: nothing left to wait for
        }
    }

    /** The client's input ended after its server failed: once it lingers, nothing is left to wait for. */
    private void clientInputEnded() {
        if (phase == Phase.LINGERING) {
            abort();
        }
        // DRAINING: linger() closes once the drain is out.
    }

    /**
     * Closes the connection: drain, a server's close_on_down or admin disable, an error, an idle timeout. Both
     * sockets are shut down, which completes every operation on them; the last completion finishes.
     */
    @Override
    public void abort() {
        close(true);
    }

    /**
     * Closes both sides; {@code andConnect}: a CONNECT in flight too (drain, shutdown, an admin's disable). Without
     * it (the client left, timed out or failed) the connect runs on, so that it counts for its server, and the
     * client's share of the listener is given back at once.
     */
    private void close(boolean andConnect) {
        if (phase == Phase.CLOSING && andConnect && connecting) {
            shutdownQuietly(serverFd); // a connect left running for its server's sake, now ended too
            return;
        }
        if (phase == Phase.CLOSING || phase == Phase.CLOSED) {
            return;
        }
        Phase was = phase;
        phase = Phase.CLOSING;
        if (idle != null) {
            idle.close();
        }
        if (queued != null) {
            cluster.queue().cancel(queued);
            queued = null;
        }
        shutdownQuietly(clientFd);
        if (serverFd >= 0 && (was != Phase.CONNECTING || andConnect)) {
            shutdownQuietly(serverFd);
        } else if (serverFd >= 0) {
            releaseClientShare();
        }
        finishIfDone(); // nothing in flight (a direction holding bytes, say): nothing will complete to finish it
    }

    /**
     * A connect the client did not wait for has ended: it still counts for the server (a server that does not
     * answer is found out whether or not its clients stay), as the channel relay counts it, and then closes.
     */
    private void connectOutlivedClient(int res) {
        if (connectTimer != null) {
            connectTimer.close();
        }
        Server s = target;
        if (res < 0) {
            lease.close();
            lease = null;
            s.connectErrors().increment();
            cluster.reportConnectFailure(s);
        } else {
            s.totalConnections().increment();
            s.recordLatency(System.nanoTime() - connectStart);
            cluster.reportConnectSuccess(s);
        }
    }

    private void finishIfDone() {
        if (inFlight == 0 && phase != Phase.CLOSED) {
            finish();
        }
    }

    private void finish() {
        phase = Phase.CLOSED;
        if (clock != null) {
            clock.close();
        }
        SluiceSockets.close(clientFd);
        closeServer();
        up.release();
        down.release();
        up.dropPipe();
        down.dropPipe();
        releaseServerShare();
        releaseClientShare();
        listenerConnections.closed(this);
        registration.cancel();
    }

    /** The connection's share of its server (its slot, its load, its place among the server's connections). */
    private void releaseServerShare() {
        if (lease != null) {
            lease.close();
            lease = null;
        }
        if (slot != null) {
            slot.close();
            slot = null;
        }
        if (inServerSet) {
            inServerSet = false;
            target.connections().closed(this);
        }
    }

    private void releaseClientShare() {
        if (clientReleased) {
            return;
        }
        clientReleased = true;
        if (clientRelease != null) {
            clientRelease.run();
        }
        admission.closed();
    }

    @Override
    public EventLoop loop() {
        return acceptor.loop();
    }

    @Override
    public void registered() {
    }

    /**
     * The loop is shutting down with this connection open (a listener closes its connections before, so only an
     * abrupt stop gets here). Netty still delivers completions for a while before it closes the ring: the
     * sockets are shut down, and the last completion finishes as usual. A buffer whose operation never completes
     * is left to the collector rather than handed back while the kernel may still write into it.
     */
    @Override
    public void close() {
        abort();
    }

    static void closeFd(int fd) {
        SluiceSockets.close(fd);
    }

    /** Ends every operation in flight on {@code fd}; a socket not connected (yet, or any more) has none. */
    private static void shutdownQuietly(int fd) {
        SluiceSockets.shutdown(fd, true, true);
    }
}
