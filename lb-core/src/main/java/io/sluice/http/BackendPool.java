package io.sluice.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.config.PoolConfig;
import io.sluice.config.UpstreamProtocol;
import io.sluice.net.BatchedReads;
import io.sluice.net.ChannelOptions;
import io.sluice.net.IdleAck;
import io.sluice.net.LoopIndex;
import io.sluice.net.LoopTime;
import io.sluice.net.UpstreamConnector;
import io.sluice.net.Transport;
import io.sluice.net.UnendedReadBatches;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keep-alive connections to one server from one event loop. Only that loop touches it, so it has no locks.
 * Idle connections are reused newest first (the oldest age out), and each idle connection keeps a read
 * pending so that a close by the server is seen at once and the connection leaves the pool before anyone
 * borrows it.
 */
final class BackendPool implements LoopPool {
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final ServerPools totals;
    /** This pool's loop's {@link LoopIndex} number: its slot in the server's pool counts. */
    private final int loopIndex;
    private final Server server;
    private final Cluster cluster;
    private final Upstream upstream;
    private final EventLoop loop;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    /** Rebuilt when a reload changes the cluster's connect_timeout; only this pool's loop touches it. */
    private Bootstrap bootstrap;
    private java.time.Duration bootstrapTimeout;
    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final PoolWaiters waiters;
    private int open;
    private boolean sweepScheduled;
    /** The server left its cluster: connections close when given back instead of waiting idle. */
    private boolean retired;
    /** Set for a pool private to one client connection (send_proxy_protocol); null for a shared one. */
    private ProxyHeaderFor proxyHeader;

    /** Someone who needs a connection; called back on the pool's loop. */
    interface Waiter {
        /** A {@link #waitDeadline} for a waiter that waits as long as it takes. */
        long NO_DEADLINE = Long.MIN_VALUE;

        void ready(BackendConnection conn);

        /** Until when ({@link System#nanoTime}) it may wait in a pool's queue, or {@link #NO_DEADLINE}. */
        default long waitDeadline() {
            return NO_DEADLINE;
        }

        /** It waited in the queue until its deadline and was taken out: it is called back no more. */
        default void waitExpired() {
        }

        void failed(Throwable cause);

        /** {@code pool.max_waiting} requests already wait for this pool: this one does not queue. */
        void turnedAway();
    }

    BackendPool(ServerPools totals, Upstream upstream, Server server, EventLoop loop, Transport transport,
                ByteBufAllocator allocator) {
        this.totals = totals;
        this.loopIndex = LoopIndex.current();
        this.waiters = new PoolWaiters(totals.waiting, loopIndex, loop);
        this.server = server;
        this.cluster = upstream.cluster();
        this.upstream = upstream;
        this.loop = loop;
        this.transport = transport;
        this.allocator = allocator;
    }

    /** The cluster's pool settings as configured now: a reload's changes apply from the next use. */
    private PoolConfig config() {
        return cluster.config().pool();
    }

    private Bootstrap bootstrap() {
        java.time.Duration timeout = cluster.config().connectTimeout();
        if (bootstrap == null || !timeout.equals(bootstrapTimeout)) {
            bootstrap = ChannelOptions.upstream(loop, transport, timeout, allocator, BatchedReads.INSTANCE, false)
                    .handler(INIT);
            bootstrapTimeout = timeout;
        }
        return bootstrap;
    }

    private static final ChannelHandler INIT = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel ch) {
            // Strict parsing of responses too: a response two parsers could read differently is a 502.
            HttpDecoderConfig decoder = HttpFrontCodecs.strict(new HttpDecoderConfig())
                    .setMaxInitialLineLength(8192).setMaxHeaderSize(64 * 1024);
            UnendedReadBatches.addTo(ch);
            ch.pipeline().addLast("codec", new BackendCodec(decoder));
            ch.pipeline().addLast("backend", new BackendHandler());
        }
    };

    /** Returns true when the waiter was queued (every connection busy); it is then called back later. */
    @Override
    public boolean acquire(Waiter w) {
        BackendConnection c;
        while ((c = idle.pollLast()) != null) {
            totals.idle.decrement(loopIndex);
            c.idle = false;
            if (c.channel.isActive()) {
                lease(c, w);
                return false;
            }
            c.channel.close();
        }
        if (open < config().maxConnectionsPerLoop()) {
            connect(w);
            return false;
        }
        if (!waiters.offer(w, config().maxWaiting())) {
            w.turnedAway();
            return false;
        }
        return true;
    }

    /** The idle connections' channels, newest last; on the pool's loop only. For tests. */
    List<Channel> idleChannels() {
        return idle.stream().map(c -> c.channel).toList();
    }

    /** A waiter that gave up (its client went away). */
    @Override
    public void cancel(Waiter w) {
        waiters.remove(w);
    }

    private void lease(BackendConnection c, Waiter w) {
        c.requests++;
        totals.inUse.increment(loopIndex);
        w.ready(c);
    }

    private void connect(Waiter w) {
        if (server.resolved() == null) {
            w.failed(new IllegalStateException("server address not resolved"));
            return;
        }
        open++;
        ChannelFuture f = UpstreamConnector.connect(bootstrap(), cluster, server, UpstreamConnector.Use.POOLED,
                proxyHeader == null ? null : proxyHeader::write);
        BackendConnection c = new BackendConnection(f.channel(), server, this);
        upstream.connections().add(f.channel());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                // Counted here, not by channelInactive: the handler learns of its connection only once it is
                // ready, so a channel that never became active, or whose TLS handshake failed, is counted once.
                open--;
                w.failed(done.cause());
                return;
            }
            f.channel().pipeline().get(BackendHandler.class).conn = c;
            lease(c, w);
        });
    }

    /**
     * Gives a connection back after an exchange. {@code reusable} is false when the exchange did not end
     * cleanly (the connection's state is unknown) or the server asked to close.
     */
    @Override
    public void release(BackendConnection c, boolean reusable) {
        totals.inUse.decrement(loopIndex);
        c.attempt = null;
        long responseBytes = c.responseBytes;
        c.responseBytes = 0;
        int max = config().maxRequestsPerConnection();
        if (!reusable || !c.channel.isActive() || (max > 0 && c.requests >= max)) {
            c.channel.close();
            return;
        }
        if (BackendCodec.holdsUnreadBytes(c.channel)) {
            log.debug("{} sent bytes beyond its response: connection closed, not reused", c.channel);
            c.channel.close();
            return;
        }
        Waiter w = waiters.poll();
        if (w != null) {
            lease(c, w);
            return;
        }
        if (retired) {
            c.channel.close();
            return;
        }
        c.idle = true;
        c.idleSince = LoopTime.nanoTime();
        // No next request will carry the ACK of the response's last segment: send it now (IdleAck says why),
        // after a response large enough for its server to be slowed on the next one.
        if (responseBytes >= IdleAck.AFTER_RESPONSE_BYTES) {
            IdleAck.send(c.channel);
        }
        idle.addLast(c);
        totals.idle.increment(loopIndex);
        c.channel.read();
        scheduleSweep();
    }

    /**
     * The connection leaves the pool for good (it became a tunnel after an Upgrade): it no longer counts
     * against the pool's limit, and the server's connection count drops when it closes.
     */
    @Override
    public void detach(BackendConnection c) {
        totals.inUse.decrement(loopIndex);
        c.attempt = null;
        open--;
        Waiter w = waiters.poll();
        if (w != null) {
            connect(w);
        }
    }

    /** The connection's channel closed (from {@link BackendHandler#channelInactive}). */
    @Override
    public void closed(BackendConnection c) {
        open--;
        if (c.idle && idle.remove(c)) {
            c.idle = false;
            totals.idle.decrement(loopIndex);
        }
        Waiter w = waiters.poll();
        if (w != null) {
            connect(w);
        }
    }

    /** Called on this pool's loop when its server is removed. */
    @Override
    public void retire() {
        retired = true;
        BackendConnection c;
        while ((c = idle.pollLast()) != null) {
            c.idle = false;
            totals.idle.decrement(loopIndex);
            c.channel.close();
        }
    }

    private void scheduleSweep() {
        if (sweepScheduled) {
            return;
        }
        sweepScheduled = true;
        long every = Math.max(1, config().maxIdleTime().toNanos() / 2);
        loop.schedule(this::sweep, every, TimeUnit.NANOSECONDS);
    }

    private void sweep() {
        sweepScheduled = false;
        long limit = config().maxIdleTime().toNanos();
        long now = System.nanoTime();
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection c = it.next();
            if (now - c.idleSince >= limit) {
                it.remove();
                c.idle = false;
                totals.idle.decrement(loopIndex);
                c.channel.close();
            }
        }
        if (!idle.isEmpty()) {
            scheduleSweep();
        }
    }

    @Override
    public void sendProxyHeader(ProxyHeaderFor header) {
        this.proxyHeader = header;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public UpstreamProtocol protocol() {
        return UpstreamProtocol.HTTP1;
    }
}
