package io.sluice.http;

import io.sluice.config.HttpConfig;
import io.sluice.net.ConnectionClock;

/**
 * How long a client connection may take to send its next request head: keepalive_timeout while idle between
 * requests, then header_timeout from the first byte of the next request (or from the connection's start).
 * One timer per connection, re-armed per request, on the connection's clock (see {@link LazyTimeout}).
 */
final class HeadWait {
    private final LazyTimeout timer;
    private final long headerNanos;
    private final long keepaliveNanos;
    private boolean idle;
    /** Bytes of a next request arrived since the last request was received. */
    private boolean bytesSeen;

    HeadWait(ConnectionClock clock, HttpConfig http, Runnable onExpiry) {
        this.timer = new LazyTimeout(clock, onExpiry);
        this.headerNanos = http.headerTimeout().toNanos();
        this.keepaliveNanos = http.keepaliveTimeout().toNanos();
    }

    /** The connection is new: its first head is due within header_timeout. */
    void start() {
        arm(headerNanos, false);
    }

    /**
     * Bytes were read while no request was being received ({@code betweenRequests}) or after the current one
     * was received in full: the next request has begun.
     */
    void bytesArrived(boolean betweenRequests) {
        if (!bytesSeen) {
            bytesSeen = true;
            if (betweenRequests && idle) {
                arm(headerNanos, false); // the idle wait is over; the head must now arrive within header_timeout
            }
        }
    }

    /** A request head was received. */
    void received() {
        timer.disarm();
        bytesSeen = false;
    }

    /** The last response is written and nothing is queued: wait for the next head, idle or already begun. */
    void betweenRequests() {
        if (bytesSeen) {
            arm(headerNanos, false);
        } else {
            arm(keepaliveNanos, true);
        }
    }

    /** Whether the expired wait was for a head already begun (answered 408) rather than an idle one. */
    boolean headBegun() {
        return bytesSeen;
    }

    void stop() {
        timer.disarm();
    }

    /** For a closed connection: a pending task would keep it reachable until it runs. */
    void close() {
        timer.close();
    }

    private void arm(long nanos, boolean idle) {
        this.idle = idle;
        timer.arm(nanos);
    }
}
