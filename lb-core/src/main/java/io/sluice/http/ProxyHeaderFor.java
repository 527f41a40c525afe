package io.sluice.http;

import io.netty.channel.Channel;
import io.sluice.config.ProxyProtocolVersion;
import io.sluice.net.ProxyHeaderOut;

/**
 * The PROXY protocol header that opens every connection of a pool private to one client connection
 * ({@link ClientPools}): it names that client, so the connection never carries another client's request.
 *
 * @param client  the client connection (for HTTP/2, the connection, not a stream)
 * @param version the cluster's {@code send_proxy_protocol} when the pool was made
 */
record ProxyHeaderFor(Channel client, ProxyProtocolVersion version) {
    /** Writes (without flushing) the header on a server connection just connected, before any other byte. */
    void write(Channel server) {
        ProxyHeaderOut.write(server, client, version);
    }
}
