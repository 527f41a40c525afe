package io.sluice.http;

import io.netty.channel.Channel;
import io.sluice.cluster.Server;

/**
 * One keep-alive connection to a server, owned by the pool of the loop it runs on; for an HTTP/2 cluster, one
 * stream ({@link Http2Stream}), which an attempt uses the same way.
 */
class BackendConnection {
    /** No RST_STREAM came from the server. */
    static final long NO_RESET = -1;
    final Channel channel;
    final Server server;
    final ConnectionPool pool;
    /** The attempt using the connection now; null while idle in the pool. */
    UpstreamRequest attempt;
    int requests;
    /** Body bytes of the response now on this connection (HTTP/1.1), for the ACK choice at release ({@code io.sluice.net.IdleAck}). */
    long responseBytes;
    long idleSince;
    boolean idle;
    /** HTTP/2: the error code of the server's RST_STREAM, else {@link #NO_RESET}. */
    long resetCode = NO_RESET;
    /**
     * HTTP/2: the server did not process the request (REFUSED_STREAM, or a stream above a GOAWAY's
     * last-stream-id), so it may be sent again whatever its method (RFC 9113 8.7).
     */
    boolean refused;
    /** HTTP/2: the stream failed on Sluice's side (a request Netty could not encode), not the server's failure. */
    boolean local;

    BackendConnection(Channel channel, Server server, ConnectionPool pool) {
        this.channel = channel;
        this.server = server;
        this.pool = pool;
    }

    /** Reused connections may have been closed by the server while idle: a reset then is not the request's fault. */
    boolean reused() {
        return requests > 1;
    }

    /** Queues a request part; {@link #flush} sends it. */
    void write(Object part) {
        channel.write(part, channel.voidPromise());
    }

    void flush() {
        channel.flush();
    }

    /** Asks for (more of) the response. */
    void read() {
        channel.read();
    }

    /** Whether more of the request may be written now. */
    boolean isWritable() {
        return channel.isWritable();
    }

    /** For a tunnel: the HTTP handlers leave, and bytes the codec still holds flow on to the relay. */
    void removeHttpHandlers() {
        channel.pipeline().remove(BackendHandler.class);
        channel.pipeline().remove("codec");
    }
}
