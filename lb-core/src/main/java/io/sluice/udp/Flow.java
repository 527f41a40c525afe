package io.sluice.udp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One client address and the server it is pinned to: a connected datagram socket to that server on the event loop
 * of the listener socket the client writes to, so both directions run on one thread without locks. Datagrams pass
 * through as the buffers they were read into: each is written once (the write releases it) or released once when
 * dropped. A flow ends when idle for {@code udp.idle_timeout}, once every client datagram has its
 * {@code udp.responses_per_request} replies, or when its server leaves.
 */
final class Flow {
    /** Datagrams held while the server socket opens; more are dropped. */
    static final int MAX_EARLY = 16;

    enum State { OPENING, OPEN, CLOSED }

    private final FlowTable table;
    private final Cluster cluster;
    final InetSocketAddress client;
    private final Lease lease;
    /** Gives back the flow's count in the listener's {@code limits.connections_per_ip}; run once, at close. */
    private final Runnable clientCount;
    private final long idleNanos;
    private final int responsesPerRequest;
    private FlowSocket upstream;
    private State state = State.OPENING;
    private ArrayDeque<ByteBuf> early;
    private long requests;
    private long responses;
    private long lastActive = System.nanoTime();
    private ScheduledFuture<?> idleTimer;

    Flow(FlowTable table, Cluster cluster, InetSocketAddress client, Lease lease, Runnable clientCount,
         long idleNanos, int responsesPerRequest) {
        this.table = table;
        this.cluster = cluster;
        this.client = client;
        this.lease = lease;
        this.clientCount = clientCount;
        this.idleNanos = idleNanos;
        this.responsesPerRequest = responsesPerRequest;
    }

    Server server() {
        return lease.server();
    }

    /**
     * Opening the socket to the server began; the flow waits for it to be connected. Returns false, the flow
     * closed, when no socket could be made: out of file descriptors or direct memory, Netty hands back a failed
     * future on a placeholder channel of no event loop, which must not be touched (its {@code eventLoop()} and
     * {@code close()} throw), and the failure is this process's, not the server's.
     */
    boolean opening(ChannelFuture connect) {
        Channel ch = connect.channel();
        if (!ch.isRegistered() || connect.cause() != null) {
            if (ch.isRegistered()) {
                ch.close();
            }
            table.stats().dropped(UdpStats.Drop.SOCKET_ERROR);
            close();
            return false;
        }
        upstream = new ChannelFlowSocket(ch);
        lease.server().connections().add(ch);
        // An admin's disable (or close_on_down) closes the server's channels: the flow ends with its socket.
        ch.closeFuture().addListener(f -> close());
        connect.addListener(f -> {
            if (state == State.CLOSED) {
                return;
            }
            if (!f.isSuccess()) {
                serverUnreachable();
                close();
                return;
            }
            connected();
        });
        idleTimer = loop().schedule(this::idleCheck, idleNanos, TimeUnit.NANOSECONDS);
        return true;
    }

    /**
     * The flow's socket is a bare io_uring one, connected already (a datagram socket's connect is only its peer):
     * the flow is open at once.
     */
    void opened(UringFlowSocket socket) {
        upstream = socket;
        lease.server().connections().add(socket);
        idleTimer = loop().schedule(this::idleCheck, idleNanos, TimeUnit.NANOSECONDS);
        connected();
    }

    private void connected() {
        state = State.OPEN;
        lease.server().totalConnections().increment();
        if (early != null) {
            ByteBuf b;
            while ((b = early.poll()) != null) {
                toServer(b);
            }
            early = null;
            upstream.flush();
        }
    }

    /** The table's event loop, which the flow's socket is registered with and its timers run on. */
    private EventLoop loop() {
        return table.channel().eventLoop();
    }

    /**
     * A client datagram, owned by the flow from here on. Returns true when it was written without a flush (the
     * caller flushes once per read batch).
     */
    boolean fromClient(ByteBuf datagram) {
        requests++;
        lastActive = System.nanoTime();
        if (state == State.OPEN) {
            return toServer(datagram);
        }
        if (state == State.OPENING) {
            if (early == null) {
                early = new ArrayDeque<>(4);
            }
            if (early.size() < MAX_EARLY) {
                early.add(datagram);
                return false;
            }
            table.stats().dropped(UdpStats.Drop.QUEUE_FULL);
        }
        datagram.release();
        return false;
    }

    private boolean toServer(ByteBuf datagram) {
        if (!upstream.writable()) {
            table.stats().dropped(UdpStats.Drop.UNWRITABLE);
            datagram.release();
            return false;
        }
        Server s = lease.server();
        s.datagramsSent().increment();
        s.bytesSent().add(datagram.readableBytes());
        upstream.write(datagram);
        return true;
    }

    void flush() {
        if (state == State.OPEN) {
            upstream.flush();
        }
    }

    /** A server datagram, owned by the flow from here on: relayed to the client from the listener's socket. */
    void fromServer(ByteBuf datagram) {
        if (state == State.CLOSED) {
            datagram.release();
            return;
        }
        responses++;
        lastActive = System.nanoTime();
        Server s = lease.server();
        int bytes = datagram.readableBytes();
        s.datagramsReceived().increment();
        s.bytesReceived().add(bytes);
        Channel front = table.channel();
        if (front.isWritable()) {
            table.stats().sent(bytes);
            front.write(new DatagramPacket(datagram, client), front.voidPromise());
            table.needsFlush();
        } else {
            table.stats().dropped(UdpStats.Drop.UNWRITABLE);
            datagram.release();
        }
        if (responsesPerRequest > 0 && responses >= requests * responsesPerRequest) {
            close(); // every datagram answered: DNS flows end here instead of waiting out the idle timeout
        }
    }

    void flushFront() {
        table.flushFront();
    }

    /** The server's port answered with ICMP port unreachable: a failed connect, as TCP would see it. */
    void serverUnreachable() {
        lease.server().connectErrors().increment();
        cluster.reportConnectFailure(lease.server());
    }

    /** Whether new datagrams should go elsewhere: the server left, went down, was ejected or disabled. */
    boolean serverGone() {
        Server s = lease.server();
        return s.removed() || !s.healthy() || s.ejected() || s.adminState() == Server.AdminState.DISABLED;
    }

    private void idleCheck() {
        if (state == State.CLOSED) {
            return;
        }
        long left = lastActive + idleNanos - System.nanoTime();
        if (left > 0) {
            idleTimer = loop().schedule(this::idleCheck, left, TimeUnit.NANOSECONDS);
        } else {
            close();
        }
    }

    /** Ends the flow once: its socket, its lease, its slot and whatever it still held. */
    void close() {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
        if (early != null) {
            early.forEach(ByteBuf::release);
            early = null;
        }
        table.remove(this);
        if (upstream != null) {
            upstream.end();
        }
        lease.close();
        clientCount.run();
    }

    boolean closed() {
        return state == State.CLOSED;
    }
}
