package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * A copy of a small request body, kept until the response begins in case the request must be sent again.
 * A copy, not views of the pieces: views would keep every read buffer they came from alive.
 */
final class ReplayBody {
    /** Bodies up to this size of idempotent requests are kept, to be sent again. */
    static final int LIMIT = 64 * 1024;

    private final ByteBuf copy;

    /** {@code contentLength} -1 for a chunked body. */
    ReplayBody(ByteBufAllocator alloc, long contentLength) {
        this.copy = alloc.buffer(contentLength < 0 ? 1024 : (int) contentLength, LIMIT);
    }

    /**
     * Copies a piece, {@code bodyBytes} being the body's size with it. Returns false, the copy released, when the
     * body outgrew the limit or ends in trailers (which are not kept): it cannot be sent again.
     */
    boolean keep(HttpContent piece, long bodyBytes, boolean last) {
        if (bodyBytes > LIMIT || (last && !((LastHttpContent) piece).trailingHeaders().isEmpty())) {
            copy.release();
            return false;
        }
        ByteBuf b = piece.content();
        copy.writeBytes(b, b.readerIndex(), b.readableBytes());
        return true;
    }

    /** The body kept so far, as one part to send again (null when it is empty). */
    HttpContent again() {
        return copy.isReadable() ? new DefaultHttpContent(copy.retainedDuplicate()) : null;
    }

    void release() {
        copy.release();
    }
}
