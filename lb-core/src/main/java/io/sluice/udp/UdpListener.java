package io.sluice.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ReflectiveChannelFactory;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.uring.SluiceSockets;
import io.netty.util.concurrent.EventExecutor;
import io.sluice.cluster.Cluster;
import io.sluice.config.ListenerConfig;
import io.sluice.config.UdpConfig;
import io.sluice.net.Admission;
import io.sluice.net.Listener;
import io.sluice.net.ClientLimits;
import io.sluice.net.ListenerStats;
import io.sluice.net.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code protocol: udp} listener: datagram sockets on one address, one per event loop with SO_REUSEPORT (epoll,
 * io_uring; one socket on nio), each with its {@link FlowTable}. The address is a single one, never a wildcard, so
 * replies leave from the address clients sent to. Flows count as the listener's connections; sockets and flows go
 * together: a listener that stops accepting ends its flows, as a reply needs the socket it would leave by.
 */
public final class UdpListener implements Listener {
    private static final Logger log = LoggerFactory.getLogger(UdpListener.class);

    /** What new flows are made with: replaced whole by a reload. */
    record Settings(ListenerConfig config, Cluster cluster) {
        UdpConfig udp() {
            return config.udp();
        }
    }

    private volatile Settings settings;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private final ListenerStats stats = new ListenerStats();
    private final UdpStats udpStats = new UdpStats();
    /** Counts flows (their server sockets) as connections; the limit is {@code udp.max_flows}, kept in UdpStats. */
    private final Admission admission = new Admission(stats, 0);
    /** {@code limits}: flows per client as its connections, each client datagram as one of its requests. */
    private final ClientLimits clientLimits = new ClientLimits(stats);
    private final List<Channel> sockets = new ArrayList<>();
    private final List<FlowTable> tables = new ArrayList<>();
    /** Makes each flow's socket to its server; tests swap in one that fails as an exhausted process would. */
    private volatile ChannelFactory<? extends Channel> flowSockets;
    /** {@code -Dsluice.udp.bareFlows=false}: every flow's socket a channel, as before 2026-12-07 (for A/B runs). */
    private volatile boolean bareFlows = !"false".equals(System.getProperty("sluice.udp.bareFlows"));
    private volatile BareSockets bareSockets = SluiceSockets::newConnectedDatagramSocket;

    public UdpListener(ListenerConfig config, Cluster cluster, Transport transport, ByteBufAllocator allocator) {
        if (config.protocol() != ListenerConfig.Protocol.UDP || config.bind().isWildcard()) {
            throw new IllegalArgumentException("listener " + config.name() + ": not a udp listener on one address");
        }
        this.settings = new Settings(config, cluster);
        clientLimits.configure(config.limits());
        this.transport = transport;
        this.allocator = allocator;
        this.flowSockets = new ReflectiveChannelFactory<>(transport.datagramChannelClass());
    }

    /**
     * New settings (cluster, timeouts, limits) for flows started from now on; open flows keep theirs. A new
     * {@code max_datagram_size} needs new sockets (a socket keeps the buffer size it first read with): the reload
     * makes a new listener for it.
     */
    public void reconfigure(ListenerConfig next, Cluster cluster) {
        ListenerConfig old = settings.config();
        if (!old.bind().equals(next.bind()) || next.protocol() != ListenerConfig.Protocol.UDP
                || old.udp().maxDatagramSize() != next.udp().maxDatagramSize()) {
            throw new IllegalArgumentException("listener " + old.name()
                    + ": bind, protocol and max_datagram_size need a new listener");
        }
        clientLimits.configure(next.limits());
        settings = new Settings(next, cluster);
    }

    @Override
    public synchronized void start(EventLoopGroup workers) throws InterruptedException {
        ListenerConfig config = settings.config();
        List<EventLoop> loops = new ArrayList<>();
        for (EventExecutor e : workers) {
            loops.add((EventLoop) e);
            if (!transport.reusePort()) {
                break;
            }
        }
        InetSocketAddress address = config.bind().toBindAddress();
        try {
            for (EventLoop loop : loops) {
                FlowTable table = new FlowTable(this);
                Bootstrap b = new Bootstrap().group(loop).channel(transport.datagramChannelClass())
                        .option(ChannelOption.ALLOCATOR, allocator)
                        .option(ChannelOption.RCVBUF_ALLOCATOR, FlowTable.reads(config.udp().maxDatagramSize()))
                        .handler(table);
                if (transport.reusePort()) {
                    b.option(UnixChannelOption.SO_REUSEPORT, true);
                }
                Channel ch = b.bind(address).sync().channel();
                sockets.add(ch);
                tables.add(table);
                // Port 0: the first socket's port is the one every other socket shares.
                address = (InetSocketAddress) ch.localAddress();
            }
        } catch (InterruptedException | RuntimeException e) {
            closeSockets();
            throw e;
        }
        log.info("listener {} on udp {}:{} -> cluster {} ({}, {} socket{})", config.name(), address.getHostString(),
                address.getPort(), settings.cluster().name(), transport.name(), sockets.size(),
                sockets.size() == 1 ? "" : "s");
    }

    private synchronized void closeSockets() {
        for (Channel ch : sockets) {
            ch.close().syncUninterruptibly();
        }
        sockets.clear();
        tables.clear();
    }

    @Override
    public void stopAccepting() {
        closeConnections();
    }

    @Override
    public void pauseAccepting() {
        closeConnections();
    }

    @Override
    public void resumeAccepting(EventLoopGroup workers) throws InterruptedException {
        start(workers);
    }

    /** Closes the sockets, which ends every flow (see {@link FlowTable#channelInactive}), and waits for them. */
    @Override
    public void closeConnections() {
        List<Channel> open;
        synchronized (this) {
            open = new ArrayList<>(sockets);
        }
        closeSockets();
        for (Channel ch : open) {
            ch.eventLoop().submit(() -> { }).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public synchronized InetSocketAddress localAddress() {
        return sockets.isEmpty() ? null : (InetSocketAddress) sockets.get(0).localAddress();
    }

    @Override
    public synchronized boolean bound() {
        return !sockets.isEmpty() && sockets.stream().allMatch(Channel::isActive);
    }

    @Override
    public ListenerConfig config() {
        return settings.config();
    }

    @Override
    public String name() {
        return settings.config().name();
    }

    public Cluster cluster() {
        return settings.cluster();
    }

    /** Flows as connections: how many are open, how many were made, how many found no server. */
    @Override
    public ListenerStats stats() {
        return stats;
    }

    /** Datagrams, bytes, drops and flows. */
    public UdpStats udpStats() {
        return udpStats;
    }

    /** Sockets bound now: one per event loop with SO_REUSEPORT, else one. */
    public synchronized int sockets() {
        return sockets.size();
    }

    Settings settings() {
        return settings;
    }

    ClientLimits clientLimits() {
        return clientLimits;
    }

    Admission admission() {
        return admission;
    }

    ChannelFactory<? extends Channel> flowSockets() {
        return flowSockets;
    }

    /** Test seam: how flows' sockets are made from now on; flows then use channels on every transport. */
    void flowSockets(ChannelFactory<? extends Channel> factory) {
        flowSockets = factory;
        bareFlows = false;
    }

    /**
     * Whether the flows of the listener socket {@code front} get bare io_uring sockets ({@link UringFlowSocket}):
     * when {@code front} is an io_uring channel and this Netty lets Sluice drive bare sockets. Otherwise each flow's
     * socket is a datagram channel of the listener's transport.
     */
    boolean bareFlowSockets(Channel front) {
        return bareFlows && front instanceof IoUringDatagramChannel && SluiceSockets.unavailability() == null;
    }

    /** Whether this listener's flows get bare io_uring sockets (its first socket's, as every socket's). */
    synchronized boolean bareFlowsOn() {
        return !sockets.isEmpty() && bareFlowSockets(sockets.get(0));
    }

    /** How bare flow sockets are made: a connected socket's descriptor. */
    BareSockets bareSockets() {
        return bareSockets;
    }

    /** Test seam: how bare flow sockets are made from now on. */
    void bareSockets(BareSockets sockets) {
        bareSockets = sockets;
    }

    /** Makes a flow's bare socket: a non-blocking datagram socket connected to the server, its descriptor. */
    @FunctionalInterface
    interface BareSockets {
        int connectedTo(InetSocketAddress server) throws IOException;
    }

}
