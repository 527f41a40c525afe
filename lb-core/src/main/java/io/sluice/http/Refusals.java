package io.sluice.http;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers to requests that are not forwarded at all, counted as refused. The connection closes after each:
 * after a bad or missing head the byte stream cannot be trusted.
 */
final class Refusals {
    private static final Logger log = LoggerFactory.getLogger(Refusals.class);

    private Refusals() {
    }

    /** A request head that failed to decode or broke a rule; returns the write to close after. */
    static ChannelFuture badHead(Channel client, HttpListenerStats stats, HttpResponseStatus status, String message) {
        int code = status.code();
        stats.count(code == 413 || code == 414 || code == 431 ? ErrorReason.TOO_LARGE : ErrorReason.BAD_REQUEST);
        stats.countRefused(HttpProtocol.HTTP1, code);
        log.debug("refusing request on {}: {} {}", client, code, message);
        return client.writeAndFlush(ErrorResponses.plain(client.alloc(), status, shortReason(code), true));
    }

    /** A request head begun but not complete within header_timeout. */
    static ChannelFuture headTooSlow(Channel client, HttpListenerStats stats) {
        return client.writeAndFlush(headTooSlowAnswer(stats, client.alloc()));
    }

    /** The answer {@link #headTooSlow} writes, counted. */
    static FullHttpResponse headTooSlowAnswer(HttpListenerStats stats, ByteBufAllocator alloc) {
        stats.count(ErrorReason.HEADER_TIMEOUT);
        stats.countRefused(HttpProtocol.HTTP1, HttpResponseStatus.REQUEST_TIMEOUT.code());
        return ErrorResponses.plain(alloc, HttpResponseStatus.REQUEST_TIMEOUT, "request head not received in time",
                true);
    }

    private static String shortReason(int code) {
        return switch (code) {
            case 414 -> "request line too long";
            case 431 -> "request header fields too large";
            case 405 -> "method not supported by this proxy";
            case 505 -> "HTTP version not supported";
            default -> "malformed or ambiguous request";
        };
    }
}
