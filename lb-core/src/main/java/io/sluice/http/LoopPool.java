package io.sluice.http;

import io.netty.channel.EventLoop;
import io.sluice.config.UpstreamProtocol;

/**
 * A server's connection pool on one event loop as {@link ServerPools} keeps it: HTTP/1.1 ({@link BackendPool})
 * or HTTP/2 ({@link Http2Pool}), whichever the cluster's {@code protocol} was when the pool was made.
 */
interface LoopPool extends ConnectionPool {
    EventLoop loop();

    /** What the pool speaks: a reload that changes the cluster's protocol replaces the pool. */
    UpstreamProtocol protocol();

    /** The server left its cluster (or the pool is replaced): close what is idle, the rest when done. */
    void retire();

    /** A reload changed the cluster's {@code pool} settings; called on {@link #loop()}. */
    default void poolSettingsChanged() {
    }

    /** Makes this a pool of one client connection: each new connection opens with {@code header}. Before use. */
    void sendProxyHeader(ProxyHeaderFor header);
}
