package io.sluice.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import io.sluice.cluster.UpstreamSecurity;
import java.net.InetSocketAddress;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens connections to servers, for TCP relays and HTTP pools alike, and keeps the books on each: the
 * server's load lease for the channel's whole life, connect errors and outlier feedback on failure, the
 * connection count, outlier success and the close_on_down group on success. Callers see only the future, and
 * this class's listener runs before theirs, so the books are straight before the caller reacts.
 */
public final class UpstreamConnector {
    private static final Logger log = LoggerFactory.getLogger(UpstreamConnector.class);

    /** Which of the server's counts a connection holds while open. */
    public enum Use {
        /** A byte relay (TCP listener): counts as load for the load-aware algorithms. */
        RELAY,
        /** An HTTP pool connection: counted apart, its requests are the load. */
        POOLED
    }

    private UpstreamConnector() {
    }

    /**
     * Connects {@code bootstrap} to {@code server}, which must be resolved, and, when the cluster has TLS, runs
     * the handshake: the future completes only when the channel can carry the protocol, and a failed handshake
     * counts as a failed connect. For {@link Use#RELAY} the time until then is also the server's latency
     * sample: on a TCP listener it is the only latency least_response_time can see.
     */
    public static ChannelFuture connect(Bootstrap bootstrap, Cluster cluster, Server server, Use use) {
        return connect(bootstrap, cluster, server, use, null);
    }

    /**
     * The same, with a {@code preamble} (a PROXY protocol header) written and flushed on the connection as soon as
     * it connects: before the TLS handshake when the cluster has TLS, before anything the caller writes in any
     * case. Null: none.
     */
    public static ChannelFuture connect(Bootstrap bootstrap, Cluster cluster, Server server, Use use,
                                        Consumer<Channel> preamble) {
        InetSocketAddress address = server.resolved();
        Lease lease = lease(server, use);
        long start = System.nanoTime();
        // The bootstrap's loop, not the channel's: a channel that could not be registered has none.
        return keepBooks(bootstrap.connect(address), bootstrap.config().group().next(), cluster, server, use, lease,
                start, preamble);
    }

    /**
     * The same, for a connection {@code dialer} opens on {@code loop} with {@code handler} in its pipeline, with
     * a {@code preamble} as above (null: none).
     */
    public static ChannelFuture connect(UpstreamDialer dialer, EventLoop loop, ChannelHandler handler,
                                        Cluster cluster, Server server, Use use, Consumer<Channel> preamble) {
        return connect(dialer, loop, handler, cluster, server, use, preamble, null);
    }

    /** The same, with the connect timeout on {@code deadline} (null: Netty's own task per connect). */
    public static ChannelFuture connect(UpstreamDialer dialer, EventLoop loop, ChannelHandler handler,
                                        Cluster cluster, Server server, Use use, Consumer<Channel> preamble,
                                        ConnectDeadline deadline) {
        InetSocketAddress address = server.resolved();
        Lease lease = lease(server, use);
        long start = System.nanoTime();
        return keepBooks(dialer.connect(loop, address, cluster.config().connectTimeout(), handler, deadline), loop,
                cluster, server, use, lease, start, preamble);
    }

    private static Lease lease(Server server, Use use) {
        return use == Use.RELAY ? server.beginConnection() : server.beginPooledConnection();
    }

    private static ChannelFuture keepBooks(ChannelFuture f, EventLoop loop, Cluster cluster, Server server, Use use,
                                           Lease lease, long start, Consumer<Channel> preamble) {
        UpstreamSecurity security = cluster.security();
        Channel ch = f.channel();
        // Given back when the channel closes; and on a failed connect too, because a channel that could not
        // even be created or registered (no file descriptors left) never completes its close future.
        ch.closeFuture().addListener(x -> lease.close());
        // Callers wait for this one when the connect is not all (a handshake, a preamble that may fail).
        ChannelPromise ready = security == null && preamble == null ? null : new DefaultChannelPromise(ch, loop);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                failed(cluster, server, lease, done.cause(), ready);
                return;
            }
            if (preamble != null) {
                // Ahead of the ClientHello: a server that reads a PROXY header before TLS (HAProxy's
                // accept-proxy with ssl) takes it from the first bytes of the connection.
                try {
                    preamble.accept(ch);
                } catch (RuntimeException e) {
                    ch.close();
                    failed(cluster, server, lease, e, ready);
                    return;
                }
                if (use == Use.RELAY) {
                    // A server that speaks first (SMTP, a database) must have it now; a pool's first request, or
                    // the ClientHello, carries it out otherwise.
                    ch.flush();
                }
            }
            if (security == null) {
                succeeded(cluster, server, use, ch, start);
                if (ready != null) {
                    ready.setSuccess();
                }
            } else {
                io.netty.util.concurrent.Future<?> handshake;
                try {
                    handshake = security.secure(ch, server);
                } catch (RuntimeException e) {
                    // No engine could be made (a context released by a reload, say): a failed connect, not a hang.
                    ch.close();
                    failed(cluster, server, lease, e, ready);
                    return;
                }
                handshake.addListener(hs -> {
                    if (hs.isSuccess()) {
                        succeeded(cluster, server, use, ch, start);
                        ready.setSuccess();
                    } else {
                        ch.close();
                        failed(cluster, server, lease, hs.cause(), ready);
                    }
                });
            }
        });
        return ready == null ? f : ready;
    }

    private static void succeeded(Cluster cluster, Server server, Use use, Channel ch, long start) {
        server.totalConnections().increment();
        if (use == Use.RELAY) {
            server.recordLatency(System.nanoTime() - start);
        }
        server.connections().add(ch);
        cluster.reportConnectSuccess(server);
    }

    private static void failed(Cluster cluster, Server server, Lease lease, Throwable cause, ChannelPromise ready) {
        lease.close();
        server.connectErrors().increment();
        cluster.reportConnectFailure(server);
        log.debug("connect to {} failed: {}", server, cause.toString());
        if (ready != null) {
            ready.setFailure(cause);
        }
    }
}
