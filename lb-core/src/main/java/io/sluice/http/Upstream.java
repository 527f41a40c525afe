package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.net.LoopIndex;
import io.sluice.net.Transport;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cluster as HTTP listeners use it: its servers' connection pools and its request-duration meter. Shared by
 * every HTTP listener that routes to the cluster, so a pooled connection serves them all.
 */
public final class Upstream {
    private final Cluster cluster;
    private final Transport transport;
    private final ByteBufAllocator allocator;
    private final LoopIndex loops;
    /** Copied on write: servers come and go rarely (reload), requests read it constantly without a lock. */
    private volatile Map<Server, ServerPools> pools = Map.of();
    /** Every open server connection, so that shutdown closes them while their event loops still run. */
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private volatile DurationRecorder durations = DurationRecorder.NONE;
    private volatile DurationRecorder firstByte = DurationRecorder.NONE;
    private final GrpcCodes grpcCodes = new GrpcCodes();
    private final LongAdder pingTimeouts = new LongAdder();

    public Upstream(Cluster cluster, Transport transport, ByteBufAllocator allocator, LoopIndex loops) {
        this.cluster = cluster;
        this.transport = transport;
        this.allocator = allocator;
        this.loops = loops;
    }

    /** Gives {@code server} its pools; before the cluster's picker can return it. Not on an event loop. */
    public synchronized ServerPools addServer(Server server) {
        ServerPools p = new ServerPools(this, server, transport, allocator, loops);
        Map<Server, ServerPools> next = new IdentityHashMap<>(pools);
        next.put(server, p);
        pools = next;
        return p;
    }

    /**
     * {@code server} left the cluster: its idle connections close, busy ones close when their exchange ends.
     * Its pools stay reachable until {@link #forgetServer}: a request that picked it from the picker of a
     * moment ago is still served by it.
     */
    public void retireServer(Server server) {
        ServerPools p = pools.get(server);
        if (p != null) {
            p.retire();
        }
    }

    /** Drops a retired server's pools, once no picker can still return it. */
    public synchronized void forgetServer(Server server) {
        if (pools.containsKey(server)) {
            Map<Server, ServerPools> next = new IdentityHashMap<>(pools);
            next.remove(server);
            pools = next;
        }
    }

    /**
     * A reload changed the cluster's {@code pool} settings. Most are read at each use; this is for what must
     * act on open connections ({@code ping_interval} turned on starts keepalive on them).
     */
    public void poolSettingsChanged() {
        pools.values().forEach(ServerPools::poolSettingsChanged);
    }

    public Cluster cluster() {
        return cluster;
    }

    public String name() {
        return cluster.name();
    }

    /** The pools of one server; null only for a server that left the cluster a while ago. */
    public ServerPools pools(Server server) {
        return pools.get(server);
    }

    /**
     * The pool of {@code server} for {@code loop}. A server the cluster no longer has (a pick from a picker
     * of before its removal, after its pools were forgotten) still gets one, retired from the start: the
     * request is served and the connection closes after it.
     */
    LoopPool pool(Server server, EventLoop loop) {
        return serverPools(server).forLoop(loop);
    }

    /** A new pool of {@code server} on {@code loop} for one client connection only (see {@link ClientPools}). */
    LoopPool privatePool(Server server, EventLoop loop, ProxyHeaderFor header) {
        return serverPools(server).privatePool(loop, header);
    }

    private ServerPools serverPools(Server server) {
        ServerPools p = pools.get(server);
        if (p == null) {
            p = new ServerPools(this, server, transport, allocator, loops);
            p.retire();
        }
        return p;
    }

    ChannelGroup connections() {
        return connections;
    }

    /**
     * Closes every server connection, pooled or busy, and waits until they are closed. Shutdown calls this
     * before stopping the event loops: a channel left for the loop's own teardown can lose the buffer of its
     * pending io_uring read.
     */
    public void closeConnections() {
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** HTTP/2 connections to this cluster's servers closed because a keepalive PING went unanswered. */
    public long pingTimeouts() {
        return pingTimeouts.sum();
    }

    void pingTimedOut() {
        pingTimeouts.increment();
    }

    /** gRPC calls to this cluster by final status. */
    public GrpcCodes grpcCodes() {
        return grpcCodes;
    }

    DurationRecorder durations() {
        return durations;
    }

    /** Set once by metrics before any listener starts. */
    public void durations(DurationRecorder recorder) {
        this.durations = recorder;
    }

    DurationRecorder firstByte() {
        return firstByte;
    }

    /** Where the time from the request's last byte sent to the server until its response head goes. */
    public void firstByte(DurationRecorder recorder) {
        this.firstByte = recorder;
    }

    /** Where the time from request head to last response byte goes. */
    @FunctionalInterface
    public interface DurationRecorder {
        DurationRecorder NONE = nanos -> { };

        void record(long nanos);
    }
}
