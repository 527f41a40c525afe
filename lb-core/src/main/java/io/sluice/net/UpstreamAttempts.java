package io.sluice.net;

import io.sluice.balance.PickContext;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import java.net.InetSocketAddress;

/**
 * The picks of one unit of work (a TCP connection, an HTTP request): a first pick, then one more after each
 * failed connect, each avoiding the servers already tried, up to the cluster's {@code connect_retries}. TCP
 * relays and HTTP exchanges both place work through this, so "which server next, and may we try again" has
 * one answer. One instance per client connection, {@link #begin started} again for each request on it; it
 * lives on that connection's event loop and is not thread-safe.
 */
public final class UpstreamAttempts {
    private final PickContext pick;
    private Cluster cluster;
    private int connects;

    public UpstreamAttempts(InetSocketAddress source) {
        this.pick = new PickContext(source);
    }

    /** Starts placing a new unit of work on {@code target}: forgets the servers tried for the previous one. */
    public void begin(Cluster target) {
        this.cluster = target;
        pick.reset();
        connects = 0;
    }

    /**
     * What the picker reads: the client's address, and the request's hash for ring_hash and maglev (set by the
     * caller after {@link #begin}, before the first {@link #next}).
     */
    public PickContext context() {
        return pick;
    }

    public Cluster cluster() {
        return cluster;
    }

    /**
     * The server for the next connect attempt, or null when no server is eligible (none available, or every
     * one already tried). A server whose host name has not resolved yet is never returned.
     */
    public Server next() {
        Server s = cluster.pick(pick);
        if (s == null || s.resolved() == null) {
            return null;
        }
        connects++;
        return s;
    }

    /**
     * Counts a connect attempt to a server chosen outside the picker (an HTTP sticky cookie's pin), so that
     * {@code connect_retries} limits it like a picked one.
     */
    public Server pinned(Server server) {
        connects++;
        return server;
    }

    /** A connect to {@code server} failed: true when another server may be tried ({@code connect_retries}). */
    public boolean connectFailed(Server server) {
        pick.markTried(server);
        return connects <= cluster.config().connectRetries();
    }

    /**
     * Leaves {@code server} out of the following picks without counting a connect against the retry limit:
     * for a request that went to a server which then failed before answering, and is sent again elsewhere.
     */
    public void avoid(Server server) {
        pick.markTried(server);
    }

    /** Connect attempts made for the current unit of work. */
    public int connects() {
        return connects;
    }
}
