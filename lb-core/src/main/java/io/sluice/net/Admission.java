package io.sluice.net;

import io.netty.channel.Channel;

/**
 * Lets accepted connections into a listener, or turns them away: counts every accepted connection, keeps the
 * open count true to the channels' lives, and closes at once what exceeds {@code max_connections}. Both the TCP
 * relay and the HTTP proxy admit through here, so a limit means the same on both.
 */
public final class Admission {
    private final ListenerStats stats;
    private final int maxConnections;

    /** {@code maxConnections} 0 = unlimited. */
    public Admission(ListenerStats stats, int maxConnections) {
        this.stats = stats;
        this.maxConnections = maxConnections;
    }

    /**
     * Counts {@code client} as open until its channel closes. Returns false, having closed it and counted the
     * rejection, when it is one over the limit; the caller then does nothing more with it.
     */
    public boolean admit(Channel client) {
        int active = stats.opened();
        client.closeFuture().addListener(f -> stats.closed());
        if (maxConnections > 0 && active > maxConnections) {
            stats.countRejected();
            client.close();
            return false;
        }
        return true;
    }

    public ListenerStats stats() {
        return stats;
    }
}
