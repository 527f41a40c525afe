package io.sluice.http;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;

/**
 * A client's HTTP/2 request head as the HTTP/1.1 request an exchange takes ({@link Http2RequestHeads} fills it),
 * with its fields in a {@link HeadFields} table: reused, so that a stream's request costs no request object and
 * no table once the event loop has served as many streams at once as it serves now.
 *
 * <p>As a connection's {@link PlainRequest}: from {@link #take} it is the one {@link Exchange}'s that serves it,
 * and only that exchange gives it back, when it is over ({@link ClientRequest#finished}); a request nobody gives
 * back (refused before an exchange, a stream reset first) is left to the garbage collector. Kept per event loop
 * (an exchange lives on its client's loop), at most {@link #KEPT} of them, emptied when given back so that no
 * client's fields outlive its request.
 */
final class Http2Request extends DefaultHttpRequest {
    /** Requests kept for reuse per event loop: as many as are served at once on a busy loop. */
    static final int KEPT = 256;
    /**
     * A table grown past this many fields (a client's rare big head) is not kept: each kept request would hold
     * its biggest table for the life of the loop.
     */
    static final int KEPT_FIELDS = 64;
    private static final FastThreadLocal<ArrayDeque<Http2Request>> FREE = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Http2Request> initialValue() {
            return new ArrayDeque<>();
        }
    };

    private final HeadFields fields;
    private boolean lent;

    private Http2Request(HeadFields fields) {
        super(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", fields);
        this.fields = fields;
    }

    /**
     * A request for {@code method} and {@code target} (checked as Netty checks a request line), its table empty
     * and room for {@code expectedFields} when new; this thread's kept one when there is one.
     */
    static Http2Request take(HttpMethod method, String target, int expectedFields) {
        Http2Request r = FREE.get().pollLast();
        if (r == null) {
            r = new Http2Request(new HeadFields(null, expectedFields));
        } else {
            r.setProtocolVersion(HttpVersion.HTTP_1_1);
        }
        r.setMethod(method);
        r.setUri(target);
        r.lent = true;
        return r;
    }

    HeadFields fields() {
        return fields;
    }

    /**
     * The exchange that held it is over: emptied and kept for this thread's next stream (up to {@link #KEPT}, and
     * only with a table of at most {@link #KEPT_FIELDS} fields).
     */
    void giveBack() {
        if (!lent) {
            return;
        }
        lent = false;
        fields.clear();
        ArrayDeque<Http2Request> free = FREE.get();
        if (free.size() < KEPT && fields.capacity() <= KEPT_FIELDS) {
            free.addLast(this);
        }
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
