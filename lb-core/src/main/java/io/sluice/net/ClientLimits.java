package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.sluice.balance.XxHash64;
import io.sluice.config.ClientLimitsConfig;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;

/**
 * A listener's {@code limits}: connections per client open at once ({@link ConnectionCounts}) and requests per
 * client per second ({@link RequestRateTable}), both in fixed memory shared by the listener's event loops. The
 * client is the one {@link ClientSource} names (after a PROXY header); an IPv6 client is its /64, the block one
 * host is given, so that it cannot step around its limit by changing addresses.
 *
 * <p>One per listener for its whole life: a reload changes the limits ({@link #configure}) for connections and
 * requests from then on, while the counts of connections already open stay in the same tables, where their
 * close releases them.
 */
public final class ClientLimits {
    /** Sets of the rate table: 8K sets of 8 slots (64K clients, 512 KiB). */
    static final int RATE_SETS = 8 * 1024;
    private static final AttributeKey<Boolean> CHECKED = AttributeKey.valueOf("sluice.clientLimits");

    /** Which limit refused a client: the {@code limit} label of {@code sluice_listener_limited_total}. */
    public enum Limit {
        CONNECTIONS_PER_IP, REQUESTS_PER_SECOND_PER_IP;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final ListenerStats stats;
    private final LongSupplier nanoTime;
    /** Random per listener, so that nobody can choose addresses that share counters with a given client. */
    private final long seed = ThreadLocalRandom.current().nextLong();
    private volatile ClientLimitsConfig config = ClientLimitsConfig.NONE;
    /** Made when a limit first needs them, then kept: open connections are released into the same counters. */
    private volatile ConnectionCounts connections;
    private volatile RequestRateTable rates;

    public ClientLimits(ListenerStats stats) {
        this(stats, LoopTime::nanoTime);
    }

    ClientLimits(ListenerStats stats, LongSupplier nanoTime) {
        this.stats = stats;
        this.nanoTime = nanoTime;
    }

    /** At start and on reload, on the control thread: the tables are made here, never on an event loop. */
    public synchronized void configure(ClientLimitsConfig next) {
        if (next.connectionsPerIp() > 0 && connections == null) {
            connections = new ConnectionCounts();
        }
        if (next.requestsPerSecondPerIp() > 0 && rates == null) {
            rates = new RequestRateTable(RATE_SETS, nanoTime);
        }
        config = next;
    }

    /**
     * Checks a new connection once its client is known: false, having closed it and counted why, when the
     * client has {@code connections_per_ip} open already, or (with {@code connectionIsRequest}, a tcp listener)
     * opens connections faster than {@code requests_per_second_per_ip}. A counted connection is released when
     * it closes, exactly once (its close future completes once). Asking again for the same channel is a no-op.
     */
    public boolean admit(Channel client, boolean connectionIsRequest) {
        ClientLimitsConfig c = config;
        if (!c.any() || client.hasAttr(CHECKED)) {
            return true;
        }
        client.attr(CHECKED).set(Boolean.TRUE);
        InetAddress address = address(client);
        if (address == null) {
            return true;
        }
        long hash = hash(address);
        ConnectionCounts counts = connections;
        if (c.connectionsPerIp() > 0) {
            if (!counts.acquire(hash, c.connectionsPerIp())) {
                refuse(client, Limit.CONNECTIONS_PER_IP);
                return false;
            }
            client.closeFuture().addListener(f -> counts.release(hash));
        }
        if (connectionIsRequest && request(address) > 0) {
            client.close();
            return false;
        }
        return true;
    }

    /** Whether any per-client limit is on: only then does a connection's address matter here. */
    public boolean any() {
        return config.any();
    }

    /**
     * {@link #admit(Channel, boolean)} for a connection that is not a channel (the io_uring TCP relay's): null,
     * counted as limited, when {@code client} is over a limit; else what to run, once, when the connection closes.
     */
    public Runnable admit(InetAddress client, boolean connectionIsRequest) {
        ClientLimitsConfig c = config;
        if (!c.any() || client == null) {
            return NOTHING_TAKEN;
        }
        Runnable release = NOTHING_TAKEN;
        if (c.connectionsPerIp() > 0) {
            long hash = hash(client);
            ConnectionCounts counts = connections;
            if (!counts.acquire(hash, c.connectionsPerIp())) {
                stats.countLimited(Limit.CONNECTIONS_PER_IP);
                return null;
            }
            release = () -> counts.release(hash);
        }
        if (connectionIsRequest && request(client) > 0) {
            release.run();
            return null;
        }
        return release;
    }

    /**
     * A UDP flow's first datagram from {@code client}: null, counted as limited, when the client has
     * {@code connections_per_ip} flows open already; else what to run, once, when the flow ends (it gives the
     * count back; nothing to give back when no limit was on as the flow began).
     */
    public Runnable openFlow(InetAddress client) {
        ClientLimitsConfig c = config;
        if (c.connectionsPerIp() == 0 || client == null) {
            return NOTHING_TAKEN;
        }
        long hash = hash(client);
        ConnectionCounts counts = connections;
        if (!counts.acquire(hash, c.connectionsPerIp())) {
            stats.countLimited(Limit.CONNECTIONS_PER_IP);
            return null;
        }
        return () -> counts.release(hash);
    }

    static final Runnable NOTHING_TAKEN = () -> { };

    /**
     * Takes one of the client's request tokens: 0 when within {@code requests_per_second_per_ip}, else the
     * nanoseconds until the client may send another (counted as limited).
     */
    public long request(InetAddress client) {
        ClientLimitsConfig c = config;
        if (c.requestsPerSecondPerIp() == 0 || client == null) {
            return 0;
        }
        long wait = rates.acquire(hash(client), c.requestsPerSecondPerIp(), c.bucketSize());
        if (wait > 0) {
            stats.countLimited(Limit.REQUESTS_PER_SECOND_PER_IP);
        }
        return wait;
    }

    private void refuse(Channel client, Limit limit) {
        stats.countLimited(limit);
        client.close();
    }

    private static InetAddress address(Channel client) {
        InetSocketAddress a = ClientSource.of(client);
        return a == null ? null : a.getAddress();
    }

    long hash(InetAddress address) {
        byte[] b = address.getAddress();
        return XxHash64.hash(b, 0, address instanceof Inet6Address ? 8 : b.length, seed);
    }

    ConnectionCounts connections() {
        return connections;
    }

    RequestRateTable rates() {
        return rates;
    }
}
