package io.sluice.http;

import io.netty.channel.Channel;
import io.sluice.cluster.Server;

/** One keep-alive connection to a server, owned by the pool of the loop it runs on. */
final class BackendConnection {
    final Channel channel;
    final Server server;
    final BackendPool pool;
    /** The exchange using the connection now; null while idle in the pool. */
    Exchange exchange;
    int requests;
    long idleSince;
    boolean idle;

    BackendConnection(Channel channel, Server server, BackendPool pool) {
        this.channel = channel;
        this.server = server;
        this.pool = pool;
    }

    /** Reused connections may have been closed by the server while idle: a reset then is not the request's fault. */
    boolean reused() {
        return requests > 1;
    }
}
