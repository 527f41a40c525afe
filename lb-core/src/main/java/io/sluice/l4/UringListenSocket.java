package io.sluice.l4;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.SluiceSockets;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.sluice.config.ListenerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.sluice.net.FirstAckDelay;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP listener's sockets on io_uring without a Netty server channel: one socket per event loop on the same
 * address (SO_REUSEPORT, as a UDP listener has), each with an {@link UringAcceptor} on its loop. One shared socket
 * would not spread connections: io_uring waits for a connection as an exclusive waiter, so the first loop's
 * ACCEPT took nearly all of them. The kernel spreads connections over the sockets by a hash of their addresses.
 * The same options as Netty's listener: SO_REUSEADDR, the backlog, and SO_KEEPALIVE and TCP_NODELAY set once here,
 * which Linux copies to every accepted socket. Opened and closed on the starting or control thread.
 */
public final class UringListenSocket {
    private static final Logger log = LoggerFactory.getLogger(UringListenSocket.class);

    private final List<Socket> sockets = new ArrayList<>();
    private final List<UringAcceptor> acceptors = new ArrayList<>();
    private volatile boolean bound;
    /** An HTTP listener's: the first ACK of a connection waits for the response ({@link FirstAckDelay}). */
    private final boolean delayFirstAck;

    public UringListenSocket() {
        this(false);
    }

    public UringListenSocket(boolean delayFirstAck) {
        this.delayFirstAck = delayFirstAck;
    }

    /** As bound (port 0 resolved), kept after closing as Netty's channels keep theirs. */
    private volatile InetSocketAddress local;

    /** Opens a socket and an acceptor per loop of {@code workers}; a failure to bind or listen is unchecked. */
    public void bind(ListenerConfig config, EventLoopGroup workers, UringAcceptor.Sink sink) throws InterruptedException {
        InetSocketAddress address = config.bind().toBindAddress();
        // The family Netty's listener would take: dual-stack unless the process prefers IPv4 (see Transport).
        boolean ipv6 = address.getAddress() instanceof Inet6Address || Socket.isIPv6Preferred();
        try {
            for (EventExecutor e : workers) {
                Socket s = SluiceSockets.newStreamSocket(ipv6);
                sockets.add(s);
                s.setReuseAddress(true);
                s.setReusePort(true);
                s.setKeepAlive(true);
                s.setTcpNoDelay(true);
                // The first socket takes the port (a port 0 becomes a real one); the others join it.
                s.bind(local == null ? address : new InetSocketAddress(address.getAddress(), local.getPort()));
                s.listen(config.backlog());
                if (delayFirstAck) {
                    FirstAckDelay.applyTo(s);
                }
                if (local == null) {
                    local = s.localAddress();
                }
                UringAcceptor a = new UringAcceptor((IoEventLoop) e, s, sink);
                a.start();
                acceptors.add(a);
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (InterruptedException | RuntimeException | Error e) {
            close();
            throw e;
        }
        bound = true;
    }

    /**
     * Stops every acceptor and closes the sockets (their accept queues with them); connections accepted before are
     * not touched. Waits until the kernel has let go of them, so that the address is free when this returns.
     */
    public void close() {
        bound = false;
        List<Promise<Void>> stops = new ArrayList<>();
        for (UringAcceptor a : acceptors) {
            stops.add(a.stop());
        }
        for (Promise<Void> p : stops) {
            if (!p.awaitUninterruptibly(5, TimeUnit.SECONDS)) {
                log.warn("an event loop did not stop accepting on {} within 5 s; closing its socket anyway", local);
            }
        }
        acceptors.clear();
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException e) {
                // Closed: nothing more to free.
            }
        }
        sockets.clear();
    }

    public InetSocketAddress localAddress() {
        return local;
    }

    public boolean bound() {
        return bound;
    }
}
