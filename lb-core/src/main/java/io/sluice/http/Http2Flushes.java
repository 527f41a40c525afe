package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Flushes of an HTTP/2 connection, one per event-loop turn instead of one per stream. A stream's frames are
 * mostly written while the loop reads another connection (a response goes to the client while the server's
 * connection is read, a request to the server while the client's is read), where Netty's multiplexer cannot
 * hold back the flush: every stream would cost the connection a write syscall (an io_uring submit). In front of
 * the HTTP/2 handler, Netty's {@link FlushConsolidationHandler} defers such flushes to a task that runs once the loop
 * has handled the I/O at hand, and during the connection's own reads to the end of the read batch.
 */
final class Http2Flushes {
    /** Netty's default: a flush goes out at the latest after this many were held back. */
    static final int MAX_HELD_FLUSHES = FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES;

    private Http2Flushes() {
    }

    /** A new handler (it has per-connection state), to sit right before the connection's HTTP/2 handler. */
    static FlushConsolidationHandler consolidating() {
        return new FlushConsolidationHandler(MAX_HELD_FLUSHES, true);
    }

    /**
     * Flushes what the connection holds at once, bypassing the consolidation: before a close that does not go
     * through the pipeline (which would otherwise flush first).
     */
    static void flushNow(Channel connection) {
        ChannelHandlerContext ctx = connection.pipeline().context(FlushConsolidationHandler.class);
        if (ctx != null) {
            ctx.flush();
        } else {
            connection.flush();
        }
    }
}
