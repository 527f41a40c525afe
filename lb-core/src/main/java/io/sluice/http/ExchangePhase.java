package io.sluice.http;

/**
 * Where an {@link Exchange} stands, as the client sees it. The request side has one more fact, orthogonal to
 * these: whether the request's last part has arrived ({@link Exchange#requestComplete()}).
 *
 * <pre>
 * HEAD ─▶ UPSTREAM ─1xx─▶ INFORMATIONAL ─its end─▶ UPSTREAM   (a resend stays in UPSTREAM: a new attempt)
 *            │ ─101─▶ SWITCHING ─its end─▶ TUNNEL
 *            │ ─final head─▶ RESPONSE ─last part─▶ DONE
 * HEAD, UPSTREAM, INFORMATIONAL ─local answer─▶ ANSWERED ─request end taken─▶ DONE
 *                                           └─▶ DONE (request complete, or the connection closes after it)
 * any but TUNNEL ─client gone, abort─▶ DONE
 * </pre>
 */
enum ExchangePhase {
    /** Created: the head is being checked, routed and rewritten. */
    HEAD,
    /** An attempt is placing the request, waiting for a connection, sending, or awaiting the response head. */
    UPSTREAM,
    /** An interim (1xx) head went to the client, or was dropped for an HTTP/1.0 one; its end is awaited. */
    INFORMATIONAL,
    /** A 101 went to the client; at its end both connections become one byte tunnel. */
    SWITCHING,
    /** The final response streams to the client. */
    RESPONSE,
    /**
     * Sluice answered itself while the (bodiless) request's end was still queued: that end is taken and dropped.
     * A request whose body was still arriving is not drained; the connection closes after the answer instead.
     */
    ANSWERED,
    /** Handed to the L4 relay after a 101. */
    TUNNEL,
    /** Over: response complete, or cut. */
    DONE;

    private int next;

    static {
        allow(HEAD, UPSTREAM, ANSWERED, DONE);
        allow(UPSTREAM, INFORMATIONAL, SWITCHING, RESPONSE, ANSWERED, DONE);
        allow(INFORMATIONAL, UPSTREAM, ANSWERED, DONE);
        allow(SWITCHING, TUNNEL, DONE);
        allow(RESPONSE, DONE);
        allow(ANSWERED, DONE);
    }

    private static void allow(ExchangePhase from, ExchangePhase... to) {
        for (ExchangePhase p : to) {
            from.next |= 1 << p.ordinal();
        }
    }

    boolean canBecome(ExchangePhase p) {
        return (next & (1 << p.ordinal())) != 0;
    }

    /** A response head (final or 101) went to the client: an error can no longer be answered, only cut. */
    boolean responseBegun() {
        return this == SWITCHING || this == RESPONSE || this == TUNNEL;
    }

    /** No final answer went to the client yet, so an error can still be answered with a status of its own. */
    boolean canAnswer() {
        return this == HEAD || this == UPSTREAM || this == INFORMATIONAL;
    }

    boolean over() {
        return this == DONE || this == TUNNEL;
    }
}
