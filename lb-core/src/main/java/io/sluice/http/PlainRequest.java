package io.sluice.http;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A plain bodiless request head as {@link RequestHeadParser} read it, its fields over a copy of its bytes
 * ({@link HeadFields}). A client connection's decoder keeps one and refills it for the next request once the
 * exchange that had it is over, so a keep-alive connection allocates nothing per request for its head.
 *
 * <p>Reuse is safe because of who holds it: from the decode it is {@link #lent()}, through the queue of parts
 * to the one {@link Exchange} that serves it (which sends it again on a retry and logs it at the end), and only
 * that exchange gives it back, when it is over ({@link ClientRequest#finished}). A request nobody gives back (a
 * refused head, an h2c upgrade, a connection that closed first) is simply never refilled; while one is lent, a
 * pipelined request behind it gets a new one.
 */
final class PlainRequest extends DefaultHttpRequest {
    /** Fields of a request head at first (plus the ones Sluice adds); the table grows past it. */
    private static final int FIRST_FIELDS = 4;

    private final HeadBuffer head;
    private boolean lent;

    private PlainRequest(HeadBuffer head) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", head.fields());
        this.head = head;
    }

    /** {@code firstHead}: the length of the first head, what the copy of its bytes needs at first. */
    static PlainRequest create(int firstHead) {
        return new PlainRequest(new HeadBuffer(firstHead, FIRST_FIELDS));
    }

    /** An exchange holds it, or will: not to be refilled. */
    boolean lent() {
        return lent;
    }

    /** Empties the fields, for a head of {@code length} bytes; returns where to copy its bytes. Not while lent. */
    byte[] refill(int length) {
        if (lent) {
            throw new IllegalStateException("request still held");
        }
        return head.refill(length);
    }

    HeadFields fields() {
        return head.fields();
    }

    /** The fields are in: from now it is the decoder's output, until {@link #giveBack}. */
    PlainRequest lend(HttpVersion version, HttpMethod method, String uri) {
        setProtocolVersion(version);
        setMethod(method);
        setUri(uri);
        setDecoderResult(DecoderResult.SUCCESS);
        lent = true;
        return this;
    }

    /** The exchange that held it is over. */
    void giveBack() {
        lent = false;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
