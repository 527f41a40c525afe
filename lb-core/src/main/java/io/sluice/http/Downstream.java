package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpObject;
import io.sluice.cluster.Server;

/**
 * The client side of one exchange, as the {@link Exchange} drives it. The HTTP/1.1 connection handler
 * implements it, one exchange at a time; an HTTP/2 stream can implement it as well and drive the same exchange.
 * Called on the client's event loop only.
 *
 * <p>Who moves the exchange on also looks at where it got to: the downstream after its own calls
 * ({@link Exchange#begin}, {@link Exchange#onRequestContent}); the exchange itself after events of the server
 * side and timers, through {@link #readMore} and {@link #exchangeDone}. So neither calls back into the other's
 * loop.
 */
interface Downstream {
    /** Queues a response head or body part; {@link #flush} or {@link #writeLast} sends it. */
    void write(HttpObject part);

    /** Writes and flushes the response's last part (or a whole response of Sluice's own). */
    void writeLast(HttpObject last);

    void flush();

    /** False while the client is behind: the server's response is then not read further. */
    boolean isWritable();

    /** No request after this one: the response says Connection: close, and the connection closes after it. */
    void closeAfterResponse();

    boolean closesAfterResponse();

    /** The response cannot be completed: cut the client off (it sees a truncated response). */
    void abort(String why);

    /**
     * The same after an HTTP/2 server reset the stream with {@code http2ErrorCode}: an HTTP/2 client sees that
     * code in its RST_STREAM (NO_ERROR stays NO_ERROR); an HTTP/1.1 client sees a truncated response.
     */
    default void reset(String why, long http2ErrorCode) {
        abort(why);
    }

    /**
     * Takes the rest of the current response's body by splice(2) from the server's socket ({@link SplicedBody}),
     * after what was written so far and before anything written later; false when it cannot (the default: only
     * a raw HTTP/1.1 connection owns its socket). Must not call back into the exchange from inside this call.
     */
    default boolean spliceBody(SplicedBody.Source body) {
        return false;
    }

    /** Whether {@link #spliceBody} can ever say yes on this connection. */
    default boolean splicesBodies() {
        return false;
    }

    /** The exchange can take (more of) the request: hand it what is queued, send it on, read if there is room. */
    void readMore();

    /** The exchange ended on an event of the server side or a timer. */
    void exchangeDone(Exchange ex);

    /** After a 101: the client and {@code backend} become one byte tunnel, and HTTP ends on this connection. */
    void becomeTunnel(BackendConnection backend, Server server);

    /** The client's address as text, or null when unknown; for forwarded headers and the access log. */
    String clientIp();

    boolean clientIpv6();

    ByteBufAllocator alloc();

    /** What the client speaks, for the counters and the access log. */
    HttpProtocol protocol();
}
