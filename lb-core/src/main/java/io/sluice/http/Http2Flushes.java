package io.sluice.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.sluice.net.SmallWriteCoalescer;

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

    /**
     * Frames up to this size are copied into one buffer per flush ({@link SmallWriteCoalescer}): all of a small
     * response (HEADERS, the DATA frame's header and payload), control frames; bigger DATA goes as it is.
     */
    static final int COALESCED_FRAME_MAX = 1024;
    static final int COALESCED_HOLD_MAX = 16 * 1024;
    /** {@code -Dsluice.http2.coalesceWrites=false} writes every frame as it comes, for A/B measurements. */
    private static final boolean COALESCE = Boolean.parseBoolean(
            System.getProperty("sluice.http2.coalesceWrites", "true"));

    private Http2Flushes() {
    }

    /**
     * The handlers in front of a connection's HTTP/2 handler, nearest the socket first: the write coalescer, then
     * the consolidation of flushes (so the coalescer sees one flush per loop turn). Added last to the pipeline:
     * the HTTP/2 handler is added after them.
     */
    static void addLast(ChannelPipeline p) {
        if (coalesce(p)) {
            p.addLast("h2-coalesce", coalescing());
        }
        p.addLast("h2-flush", consolidating());
    }

    /** The same, added first to the pipeline (in front of the handlers there already). */
    static void addFirst(ChannelPipeline p) {
        p.addFirst("h2-flush", consolidating());
        if (coalesce(p)) {
            p.addFirst("h2-coalesce", coalescing());
        }
    }

    /**
     * Not under TLS: Netty's TLS handler already gathers the small writes of a flush into records, so a copy
     * before it would save no entry.
     */
    private static boolean coalesce(ChannelPipeline p) {
        return COALESCE && p.get(SslHandler.class) == null;
    }

    private static SmallWriteCoalescer coalescing() {
        return new SmallWriteCoalescer(COALESCED_FRAME_MAX, COALESCED_HOLD_MAX);
    }

    /** A new handler (it has per-connection state), to sit right before the connection's HTTP/2 handler. */
    private static FlushConsolidationHandler consolidating() {
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
