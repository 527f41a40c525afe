package io.sluice.http;

import io.netty.channel.ChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.sluice.cluster.Lease;
import io.sluice.cluster.Server;
import io.sluice.cluster.Slot;
import io.sluice.net.LoopTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt to have one server answer an exchange's request (Envoy's UpstreamRequest): waits for a pooled
 * connection, holds it and the server's request lease while in use, writes to it, and passes the server's
 * events to its {@link Forwarder}. A retry is a new attempt; an attempt only ever moves forward, to {@link State#ENDED}.
 *
 * <p>Its forwarder reuses the object for its next attempt (and the next exchange's) when nothing outside it can
 * still call it ({@link #reusable}): it never waited (no pool queue, wait timer or connect future holds it), and
 * it is over. The common case, an idle pooled connection at once, allocates nothing per request.
 */
final class UpstreamRequest implements BackendPool.Waiter {
    private static final Logger log = LoggerFactory.getLogger(UpstreamRequest.class);

    enum State {
        /** Inside the pool's acquire: an answer now (an idle connection, a failure) is part of that call. */
        ACQUIRING,
        /** Queued at a busy pool, or connecting: the answer comes later, as an event of its own. */
        WAITING,
        /** Holds a connection and one unit of the server's request load. */
        CONNECTED,
        /** The connect failed. */
        FAILED,
        /** The pool already had {@code max_waiting} requests waiting; this one did not queue. */
        REFUSED,
        /** Gave its connection back (or away, to a tunnel), or stopped waiting. */
        ENDED
    }

    Server server;
    private final Forwarder forwarder;
    private ConnectionPool pool;
    /** The server's max_connections unit, held for the whole attempt (null only in unit tests of the pool). */
    private Slot slot;
    private State state = State.ACQUIRING;
    /** Something outside may hold this attempt: it waited (queue, timer, connect) or became a tunnel. */
    private boolean heldOutside;
    private BackendConnection conn;
    private Lease lease;
    /** Until when it may wait in its pool's queue ({@link System#nanoTime}); the pool's queue times it. */
    private long waitDeadline = NO_DEADLINE;
    private boolean sent;
    private long sentNanos;

    UpstreamRequest(Forwarder forwarder, Server server, ConnectionPool pool, Slot slot) {
        this.forwarder = forwarder;
        this.server = server;
        this.pool = pool;
        this.slot = slot;
    }

    /** Over, and nothing but its forwarder refers to it: it may be {@link #reset} for another attempt. */
    boolean reusable() {
        return !heldOutside && (state == State.ENDED || state == State.FAILED || state == State.REFUSED);
    }

    /** A new attempt in this object; only when {@link #reusable}. */
    UpstreamRequest reset(Server newServer, ConnectionPool newPool, Slot newSlot) {
        if (!reusable()) {
            throw new IllegalStateException("attempt in use: " + state);
        }
        server = newServer;
        pool = newPool;
        slot = newSlot;
        state = State.ACQUIRING;
        conn = null;
        lease = null;
        sent = false;
        sentNanos = 0;
        return this;
    }

    private void releaseSlot() {
        if (slot != null) {
            slot.close();
        }
    }

    /**
     * Asks the pool for a connection. Returns {@link State#CONNECTED}, {@link State#FAILED} or
     * {@link State#REFUSED} when the pool answered at once, else {@link State#WAITING}: the forwarder then hears
     * of the answer as an event.
     */
    State acquire(EventExecutor loop, long maxWaitNanos) {
        // Should every connection of the pool be busy: wait, but not longer than a connect would take.
        waitDeadline = System.nanoTime() + Math.min(maxWaitNanos, Long.MAX_VALUE >> 2); // no wrap past now
        if (waitDeadline == NO_DEADLINE) {
            waitDeadline++;
        }
        if (pool.acquire(this)) {
            state = State.WAITING;
            heldOutside = true;
        } else if (state == State.ACQUIRING) {
            state = State.WAITING; // connecting
            heldOutside = true;
        }
        return state;
    }

    /** Response body bytes that came on this attempt's connection. */
    void bodyReceived(int bytes) {
        server.bytesReceived().add(bytes);
        BackendConnection c = conn;
        if (c != null) {
            c.responseBytes += bytes;
        }
    }

    @Override
    public long waitDeadline() {
        return waitDeadline;
    }

    @Override
    public void ready(BackendConnection c) {
        if (state != State.ACQUIRING && state != State.WAITING) {
            c.pool.release(c, true); // the exchange stopped waiting while this connect was under way
            return;
        }
        boolean later = state == State.WAITING;
        conn = c;
        c.attempt = this;
        lease = server.beginRequest();
        state = State.CONNECTED;
        if (later) {
            forwarder.connectedLater(this);
        }
    }

    @Override
    public void failed(Throwable cause) {
        if (state != State.ACQUIRING && state != State.WAITING) {
            return;
        }
        boolean later = state == State.WAITING;
        state = State.FAILED;
        releaseSlot();
        log.debug("connect to {} failed: {}", server, cause.toString());
        if (later) {
            forwarder.connectFailedLater(this);
        }
    }

    @Override
    public void turnedAway() {
        state = State.REFUSED;
        releaseSlot();
    }

    @Override
    public void waitExpired() {
        if (state == State.WAITING) {
            state = State.ENDED;
            releaseSlot();
            forwarder.poolWaitExpired(this);
        }
    }

    boolean connected() {
        return state == State.CONNECTED;
    }

    boolean isWritable() {
        return state == State.CONNECTED && conn.isWritable();
    }

    /** Whether the connection served requests before: then the server may have closed it as it went idle. */
    boolean reused() {
        return conn != null && conn.reused();
    }

    /** HTTP/2: the server did not process the request (GOAWAY, REFUSED_STREAM): it may go again, any method. */
    boolean refused() {
        return conn != null && conn.refused;
    }

    /** HTTP/2: the stream failed on Sluice's side: not to be charged to the server. */
    boolean failedLocally() {
        return conn != null && conn.local;
    }

    /** HTTP/2: the error code of the server's RST_STREAM, or {@link BackendConnection#NO_RESET}. */
    long resetCode() {
        return conn == null ? BackendConnection.NO_RESET : conn.resetCode;
    }

    /** The connection's channel; only while connected. */
    io.netty.channel.Channel channel() {
        return conn.channel;
    }

    /** Queues a request part; {@link #flush} sends it. */
    void write(Object part) {
        conn.write(part);
    }

    void flush() {
        if (state == State.CONNECTED) {
            conn.flush();
        }
    }

    /** Asks for (more of) the response. */
    void read() {
        if (state == State.CONNECTED) {
            conn.read();
        }
    }

    /** The whole request is written: from now the server's silence is timed and its first byte measured. */
    void markSent() {
        sent = true;
        sentNanos = LoopTime.nanoTime();
    }

    boolean sent() {
        return sent;
    }

    /**
     * A response head with {@code status} came: the time from the request's last byte written to it feeds the
     * upstream's meters, least_response_time and the server's own response counts.
     */
    void recordResponse(Upstream upstream, int status) {
        if (sent) {
            long now = LoopTime.nanoTime();
            long took = now - sentNanos;
            upstream.firstByte().record(took);
            server.recordResponse(status, took, now);
        }
    }

    /** Gives the connection back (reusable only after a clean exchange), or stops waiting. Idempotent. */
    void end(boolean reusable) {
        State was = state;
        state = State.ENDED;
        releaseSlot();
        if (was == State.CONNECTED) {
            lease.close();
            pool.release(conn, reusable);
        } else if (was == State.WAITING) {
            pool.cancel(this);
        }
    }

    /** For a tunnel after a 101: the connection leaves the pool for good, and so does its request load. */
    BackendConnection detach() {
        BackendConnection c = conn;
        state = State.ENDED;
        heldOutside = true; // the tunnel's
        lease.close();
        releaseSlot(); // a tunnel is no longer a request in flight, as for the request lease
        pool.detach(c);
        c.channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        return c;
    }

    // The server's events, from BackendHandler while this attempt holds the connection.

    void onResponse(Object msg) {
        if (state != State.CONNECTED) {
            ReferenceCountUtil.release(msg);
            return;
        }
        forwarder.onResponse(msg);
    }

    void onReadComplete() {
        if (state == State.CONNECTED) {
            forwarder.onReadComplete();
        }
    }

    void onWritable() {
        if (state == State.CONNECTED) {
            forwarder.onWritable();
        }
    }

    void onClosed() {
        if (state == State.CONNECTED) {
            forwarder.onClosed();
        }
    }
}
