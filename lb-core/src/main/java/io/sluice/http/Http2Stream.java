package io.sluice.http;

import io.netty.channel.Channel;
import io.sluice.cluster.Server;

/** One stream to an HTTP/2 server, on one of its pool's multiplexed connections: what an attempt borrows. */
final class Http2Stream extends BackendConnection {
    final Http2ServerConnection connection;

    Http2Stream(Channel stream, Server server, Http2Pool pool, Http2ServerConnection connection) {
        super(stream, server, pool);
        this.connection = connection;
        this.requests = 1;
    }
}
