package io.sluice.http;

/**
 * What an {@link UpstreamRequest} needs of a server's connection pool on its event loop: {@link BackendPool} in
 * production, an in-memory stand-in in the exchange's unit tests. Called on that loop only.
 */
interface ConnectionPool {
    /**
     * Returns true when the waiter was queued (every connection busy); it is then called back later. When
     * {@code pool.max_waiting} already wait, {@link BackendPool.Waiter#turnedAway()} is called at once instead.
     */
    boolean acquire(BackendPool.Waiter w);

    /** A waiter that gave up. */
    void cancel(BackendPool.Waiter w);

    /** Gives a connection back; {@code reusable} is false when its state is unknown or the server asked to close. */
    void release(BackendConnection c, boolean reusable);

    /** The connection leaves the pool for good (it became a tunnel). */
    void detach(BackendConnection c);

    /** The connection's channel closed. */
    void closed(BackendConnection c);
}
