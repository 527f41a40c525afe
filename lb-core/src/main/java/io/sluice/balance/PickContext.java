package io.sluice.balance;

import java.net.InetSocketAddress;

/**
 * What a picker may know about the connection or request being placed. One instance per connection, reused
 * across its retries, so picks themselves allocate nothing. Not thread-safe: it lives on one event loop.
 */
public final class PickContext {
    private static final int MAX_TRIED = 8;

    private final InetSocketAddress source;
    /** Made at the first failed attempt: most connections and requests never have one. */
    private Endpoint[] tried;
    private int triedCount;
    private int attempt;
    private long hash;
    private boolean hasHash;
    /** A pick passed over an endpoint because it was {@link Endpoint#full() full}. */
    private boolean sawFull;

    public PickContext(InetSocketAddress source) {
        this.source = source;
    }

    /** The client's address (L4 peer), or null when unknown. */
    public InetSocketAddress source() {
        return source;
    }

    /** 0 for the first pick of this connection, then 1, 2... for each retry. */
    public int attempt() {
        return attempt;
    }

    /** Records a failed endpoint so that the next pick avoids it. */
    public void markTried(Endpoint server) {
        if (tried == null) {
            tried = new Endpoint[MAX_TRIED];
        }
        if (triedCount < MAX_TRIED) {
            tried[triedCount++] = server;
        }
        attempt++;
    }

    /**
     * Supplies the request's hash for ring_hash and maglev, computed by {@link HashKey} from whatever the
     * cluster's {@code hash_key} names (an HTTP header, cookie, path or query parameter). Computed once per
     * request by the caller, so the pick itself only reads a long.
     */
    public void hash(long value) {
        this.hash = value;
        this.hasHash = true;
    }

    /** Forgets the hash: the request carries no key, and hashing pickers use their fallback. */
    public void clearHash() {
        this.hasHash = false;
    }

    public boolean hasHash() {
        return hasHash;
    }

    public long hash() {
        return hash;
    }

    /**
     * True when a pick since the last {@link #reset()} passed over a server because it was full: a pick that
     * found nothing then means "wait for a slot", not "no server".
     */
    public boolean sawFull() {
        return sawFull;
    }

    /** Readies this context for the next request on the same connection (HTTP keep-alive). */
    public void reset() {
        for (int i = 0; i < triedCount; i++) {
            tried[i] = null;
        }
        triedCount = 0;
        attempt = 0;
        hasHash = false;
        sawFull = false;
    }

    /**
     * Whether a pick should pass {@code server} over: it was tried for this work, or it is at its limit
     * ({@link Endpoint#full()}), which is remembered for {@link #sawFull()}.
     */
    public boolean tried(Endpoint server) {
        if (server.full()) {
            sawFull = true;
            return true;
        }
        for (int i = 0; i < triedCount; i++) {
            if (tried[i] == server) {
                return true;
            }
        }
        return false;
    }
}
