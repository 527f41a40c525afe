package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.sluice.cluster.Server;
import io.sluice.config.ProxyProtocolVersion;
import io.sluice.config.UpstreamProtocol;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Where the exchanges of one client connection get server connections. Usually the shared pools of
 * {@link Upstream}; for a cluster with {@code send_proxy_protocol}, pools private to this client connection,
 * because each connection's PROXY header names one client: a private connection is reused only by the same
 * client connection (as HAProxy's {@code http-reuse} does for such servers), and closes when it closes. The
 * cost is no connection sharing between clients. Used on the client's event loop only.
 */
final class ClientPools implements ExchangeContext.Pools {
    private final Channel client;
    /** Made at the first private use: most listeners never need one. */
    private Map<Server, Private> own;
    private boolean closed;

    /** A private pool and the header version it was made for; a reload that changes either replaces it. */
    private record Private(LoopPool pool, ProxyProtocolVersion version) {
    }

    /** @param client the client connection (for HTTP/2, the connection, shared by its streams) */
    ClientPools(Channel client) {
        this.client = client;
    }

    @Override
    public ConnectionPool pool(Upstream upstream, Server server, EventLoop loop) {
        ProxyProtocolVersion send = upstream.cluster().config().sendProxyProtocol();
        if (send == null) {
            return upstream.pool(server, loop);
        }
        if (own == null) {
            own = new IdentityHashMap<>();
            client.closeFuture().addListener(f -> close());
        }
        Private p = own.get(server);
        UpstreamProtocol protocol = upstream.cluster().config().protocol();
        if (p == null || p.version() != send || p.pool().protocol() != protocol) {
            if (p != null) {
                p.pool().retire();
            }
            p = new Private(upstream.privatePool(server, loop, new ProxyHeaderFor(client, send)), send);
            own.put(server, p);
            if (closed) {
                p.pool().retire();
            }
        }
        return p.pool();
    }

    /** The client went away: idle private connections close now, busy ones when their exchange ends. */
    private void close() {
        closed = true;
        own.values().forEach(p -> p.pool().retire());
    }
}
