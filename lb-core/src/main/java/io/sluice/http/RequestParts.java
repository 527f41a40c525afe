package io.sluice.http;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The request parts a client sent that no exchange has taken yet, oldest first, and the one rule that moves
 * them: a head starts an exchange when none is current; body parts go to the current exchange while it takes
 * them; a head where body was expected is the client's error. Shared by an HTTP/1.1 connection (requests one
 * after another) and an HTTP/2 stream (one request). Event loop only.
 */
final class RequestParts {
    /** The connection or stream the parts are for. */
    interface Owner {
        /** The exchange being served, or null. */
        Exchange current();

        /** Nothing more is taken (closing, or the stream's request is over). */
        boolean stopped();

        void start(HttpRequest head);

        /** The current exchange took a body part; it may be over. */
        void took(Exchange ex);

        /** A head came where the current request's body was expected. */
        void unexpectedHead();
    }

    private final ArrayDeque<HttpObject> parts = new ArrayDeque<>(4);

    void add(HttpObject part) {
        parts.add(part);
    }

    boolean isEmpty() {
        return parts.isEmpty();
    }

    /**
     * Hands parts on until the owner stops or the current exchange cannot take the next one. Exchanges never
     * call back into this loop: what they finish during a call from it, it sees when the call returns.
     */
    void process(Owner owner) {
        HttpObject m;
        while (!owner.stopped() && (m = parts.peek()) != null) {
            Exchange ex = owner.current();
            if (ex == null) {
                parts.poll();
                if (m instanceof HttpRequest head) {
                    owner.start(head);
                } else {
                    ReferenceCountUtil.release(m);
                }
                continue;
            }
            if (ex.requestComplete() || !ex.acceptsContent()) {
                break;
            }
            parts.poll();
            if (m instanceof HttpContent c && !(m instanceof HttpRequest)) {
                ex.onRequestContent(c);
                owner.took(ex);
            } else {
                ReferenceCountUtil.release(m);
                owner.unexpectedHead();
            }
        }
    }

    /** Whether reading from the client is of use now: nothing waits here, and a head or body is wanted. */
    boolean wantsMore(Exchange current) {
        return parts.isEmpty() && (current == null || (!current.requestComplete() && current.wantsBody()));
    }

    /** Whether the end of a request (its last body part) waits here. */
    boolean holdsLast() {
        for (HttpObject m : parts) {
            if (m instanceof LastHttpContent) {
                return true;
            }
        }
        return false;
    }

    void releaseAll() {
        HttpObject m;
        while ((m = parts.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
