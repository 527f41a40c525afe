package io.sluice.l4;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.unix.Socket;
import io.netty.channel.uring.SluiceSockets;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.sluice.config.ListenerConfig;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A TCP listener's socket on io_uring without a Netty server channel: one socket, and on every event loop an
 * {@link UringAcceptor} taking its connections. The same options as Netty's listener: SO_REUSEADDR, the backlog,
 * and SO_KEEPALIVE and TCP_NODELAY set once here, which Linux copies to every accepted socket. Opened and
 * closed on the starting or control thread.
 */
final class UringListenSocket {
    private volatile Socket socket;
    /** As bound (port 0 resolved), kept after closing as Netty's channels keep theirs. */
    private volatile InetSocketAddress local;
    private final List<UringAcceptor> acceptors = new ArrayList<>();

    void bind(ListenerConfig config, EventLoopGroup workers, UringAcceptor.Sink sink) throws Exception {
        InetSocketAddress address = config.bind().toBindAddress();
        // The family Netty's listener would take: dual-stack unless the process prefers IPv4 (see Transport).
        boolean ipv6 = address.getAddress() instanceof Inet6Address || Socket.isIPv6Preferred();
        Socket s = SluiceSockets.newStreamSocket(ipv6);
        try {
            s.setReuseAddress(true);
            s.setKeepAlive(true);
            s.setTcpNoDelay(true);
            s.bind(address);
            s.listen(config.backlog());
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        socket = s;
        local = s.localAddress();
        try {
            for (EventExecutor e : workers) {
                UringAcceptor a = new UringAcceptor((IoEventLoop) e, s, sink);
                a.start();
                acceptors.add(a);
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Stops every acceptor and closes the socket (its accept queue with it); connections accepted before are not
     * touched. Waits until the kernel has let go of it, so that its address is free when this returns.
     */
    void close() {
        Socket s = socket;
        if (s == null) {
            return;
        }
        socket = null;
        List<Promise<Void>> stops = new ArrayList<>();
        for (UringAcceptor a : acceptors) {
            stops.add(a.stop());
        }
        for (Promise<Void> p : stops) {
            p.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        acceptors.clear();
        try {
            s.close();
        } catch (IOException e) {
            // Closed: nothing more to free.
        }
    }

    InetSocketAddress localAddress() {
        return local;
    }

    boolean bound() {
        return socket != null;
    }
}
