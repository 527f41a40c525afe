package io.sluice.cluster;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * How connections to a cluster's servers are secured (TLS, built by the {@code tls} package from
 * {@code clusters[].tls}). The cluster holds the current one, so the relay, the HTTP pools and the health
 * checks all see a reload's new context from their next connection on.
 */
public interface UpstreamSecurity {

    /**
     * Called on {@code ch}'s event loop once it is connected to {@code server}: puts TLS in front of its
     * pipeline and starts the handshake. The future succeeds when the channel carries plain bytes over TLS; it
     * fails (and the channel closes) when the handshake fails, which is counted and logged by reason.
     */
    Future<Channel> secure(Channel ch, Server server);

    /** The same for a health check's probe: not counted or logged, its failure is the probe's result. */
    Future<Channel> probe(Channel ch, Server server);
}
