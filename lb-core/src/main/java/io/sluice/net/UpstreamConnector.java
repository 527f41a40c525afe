package io.sluice.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import java.net.InetSocketAddress;
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
     * Connects {@code bootstrap} to {@code server}, which must be resolved. For {@link Use#RELAY} the connect
     * time is also the server's latency sample: on a TCP listener it is the only latency least_response_time
     * can see.
     */
    public static ChannelFuture connect(Bootstrap bootstrap, Cluster cluster, Server server, Use use) {
        InetSocketAddress address = server.resolved();
        Lease lease = use == Use.RELAY ? server.beginConnection() : server.beginPooledConnection();
        long start = System.nanoTime();
        ChannelFuture f = bootstrap.connect(address);
        Channel ch = f.channel();
        // Given back when the channel closes; and on a failed connect too, because a channel that could not
        // even be created or registered (no file descriptors left) never completes its close future.
        ch.closeFuture().addListener(x -> lease.close());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                lease.close();
                server.connectErrors().increment();
                cluster.reportConnectFailure(server);
                log.debug("connect to {} failed: {}", server, done.cause().toString());
                return;
            }
            server.totalConnections().increment();
            if (use == Use.RELAY) {
                server.recordLatency(System.nanoTime() - start);
            }
            server.connections().add(ch);
            cluster.reportConnectSuccess(server);
        });
        return f;
    }
}
