package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import java.net.InetAddress;

/**
 * Lets accepted connections into a listener, or turns them away: counts every accepted connection, keeps the
 * open count true to the channels' lives, and closes at once what exceeds {@code max_connections}. Both the TCP
 * relay and the HTTP proxy admit through here, so a limit means the same on both.
 */
public final class Admission {
    /** Set on a channel once admitted: a TLS listener admits before the handshake, its protocol handler after. */
    private static final AttributeKey<Boolean> ADMITTED = AttributeKey.valueOf("sluice.admitted");
    /** Set on a channel that takes over a connection admitted without one: every stage lets it through. */
    private static final AttributeKey<Boolean> HANDED_OVER = AttributeKey.valueOf("sluice.handedOver");

    private final ListenerStats stats;
    private final int maxConnections;
    /** The listener's per-client limits, null for none. */
    private final ClientLimits clients;
    /** A tcp listener: each connection is one of the client's requests for {@code requests_per_second_per_ip}. */
    private final boolean connectionIsRequest;
    /** One for the listener rather than a lambda per connection. */
    private final ChannelFutureListener closed;

    /** {@code maxConnections} 0 = unlimited. */
    public Admission(ListenerStats stats, int maxConnections) {
        this(stats, maxConnections, null, false);
    }

    public Admission(ListenerStats stats, int maxConnections, ClientLimits clients, boolean connectionIsRequest) {
        this.stats = stats;
        this.maxConnections = maxConnections;
        this.clients = clients;
        this.connectionIsRequest = connectionIsRequest;
        this.closed = f -> stats.closed();
    }

    /**
     * {@link #count Counts} {@code client}, then holds it to the per-client limits: its address must be known by
     * now (after any PROXY header). Returns false, having closed it, when it is over a limit; the caller then
     * does nothing more with it. Admitting a channel again is a no-op that returns true, so each stage of a
     * connection can ask without counting it twice.
     */
    public boolean admit(Channel client) {
        if (client.hasAttr(HANDED_OVER)) {
            return true;
        }
        return count(client) && (clients == null || clients.admit(client, connectionIsRequest));
    }

    /**
     * {@link #admit} for the stage that admits a connection last (its protocol handler: nothing asks after it),
     * which leaves no mark on the channel: an attribute per connection that only a later stage would read.
     */
    public boolean admitLast(Channel client) {
        if (client.hasAttr(HANDED_OVER)) {
            return true;
        }
        return (client.hasAttr(ADMITTED) || countNew(client))
                && (clients == null || clients.admit(client, connectionIsRequest));
    }

    /**
     * Counts {@code client} as open until its channel closes, before its address is known (a PROXY header still
     * to come). Returns false, having closed it and counted the rejection, when it is one over the limit.
     */
    public boolean count(Channel client) {
        if (client.hasAttr(ADMITTED) || client.hasAttr(HANDED_OVER)) {
            return true;
        }
        if (!countNew(client)) {
            return false;
        }
        client.attr(ADMITTED).set(Boolean.TRUE);
        return true;
    }

    private boolean countNew(Channel client) {
        int active = stats.opened();
        client.closeFuture().addListener(closed);
        if (maxConnections > 0 && active > maxConnections) {
            stats.countRejected();
            client.close();
            return false;
        }
        return true;
    }

    /**
     * Counts a connection that is not a channel (the io_uring TCP relay's) as open; its owner calls
     * {@link ListenerStats#closed()} when it closes, whatever this returned. False, counted as rejected, when it
     * is one over {@code max_connections}: the owner closes it at once.
     */
    public boolean open() {
        int active = stats.opened();
        if (maxConnections > 0 && active > maxConnections) {
            stats.countRejected();
            return false;
        }
        return true;
    }

    /**
     * {@code client} takes over a connection counted by {@link #open()} and {@link #admitClient} (whose
     * {@code release} it runs when it closes): admitted already, at every stage.
     */
    public void handOver(Channel client, Runnable release) {
        client.attr(HANDED_OVER).set(Boolean.TRUE);
        client.closeFuture().addListener(f -> {
            stats.closed();
            release.run();
        });
    }

    /** Whether {@link #admitClient} needs the client's address (a per-client limit is on). */
    public boolean limitsClients() {
        return clients != null && clients.any();
    }

    /** A connection counted by {@link #open()} has closed. */
    public void closed() {
        stats.closed();
    }

    /**
     * The per-client limits for a connection from {@code client} that is not a channel: null, counted, when it
     * is over one (its owner closes it); else what to run, once, when it closes.
     */
    public Runnable admitClient(InetAddress client) {
        return clients == null ? ClientLimits.NOTHING_TAKEN : clients.admit(client, connectionIsRequest);
    }

    public ListenerStats stats() {
        return stats;
    }
}
