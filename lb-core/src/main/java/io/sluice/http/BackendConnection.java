package io.sluice.http;

import io.netty.channel.Channel;
import io.sluice.cluster.Server;

/** One keep-alive connection to a server, owned by the pool of the loop it runs on. */
final class BackendConnection {
    final Channel channel;
    final Server server;
    final ConnectionPool pool;
    /** The attempt using the connection now; null while idle in the pool. */
    UpstreamRequest attempt;
    int requests;
    long idleSince;
    boolean idle;

    BackendConnection(Channel channel, Server server, ConnectionPool pool) {
        this.channel = channel;
        this.server = server;
        this.pool = pool;
    }

    /** Reused connections may have been closed by the server while idle: a reset then is not the request's fault. */
    boolean reused() {
        return requests > 1;
    }

    /** For a tunnel: the HTTP handlers leave, and bytes the codec still holds flow on to the relay. */
    void removeHttpHandlers() {
        channel.pipeline().remove(BackendHandler.class);
        channel.pipeline().remove("codec");
    }
}
