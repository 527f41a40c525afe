package io.sluice.net;

import io.sluice.balance.PickContext;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.cluster.Slot;
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
    /** The max_connections slot of the last server returned, until the caller takes it. */
    private Slot slot;
    /** How often a pick may lose its server's last slot to another loop before the work waits instead. */
    private static final int SLOT_RACES = 4;

    public UpstreamAttempts(InetSocketAddress source) {
        this.pick = new PickContext(source);
    }

    /** Starts placing a new unit of work on {@code target}: forgets the servers tried for the previous one. */
    public void begin(Cluster target) {
        this.cluster = target;
        pick.reset();
        connects = 0;
        dropUntaken();
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
     * The server for the next connect attempt, or null when no server is eligible (none available, every one
     * already tried, or every one at its {@code max_connections}: then {@link #sawFull()}). A server whose host
     * name has not resolved yet is never returned. The server's slot waits in {@link #takeSlot()}.
     */
    public Server next() {
        dropUntaken();
        for (int i = 0; i < SLOT_RACES; i++) {
            Server s = cluster.pick(pick);
            if (s == null || s.resolved() == null) {
                return null;
            }
            slot = cluster.queue().take(s);
            if (slot != null) {
                connects++;
                return s;
            }
            pick.markTried(s); // another loop took its last slot since the pick looked
        }
        return null;
    }

    /**
     * A connect attempt to a server chosen outside the picker (an HTTP sticky cookie's pin), counted so that
     * {@code connect_retries} limits it like a picked one; null when the server is at its
     * {@code max_connections} (the work then waits for it). Its slot waits in {@link #takeSlot()}.
     */
    public Server pinned(Server server) {
        dropUntaken();
        slot = cluster.queue().take(server);
        if (slot == null) {
            return null;
        }
        connects++;
        return server;
    }

    /** A slot the cluster's queue handed to this work: a connect attempt to its server, counted as one. */
    public Server granted(Slot granted) {
        dropUntaken();
        connects++;
        return granted.server();
    }

    /**
     * The slot of the server {@link #next()} or {@link #pinned} returned, now the caller's to close when the
     * attempt ends; null when there is none. A slot nobody took is given back by the next pick.
     */
    public Slot takeSlot() {
        Slot s = slot;
        slot = null;
        return s;
    }

    private void dropUntaken() {
        if (slot != null) {
            slot.close();
            slot = null;
        }
    }

    /** True when the last pick passed servers over because they were at their max_connections. */
    public boolean sawFull() {
        return pick.sawFull();
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
