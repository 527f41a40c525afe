package io.sluice.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * RFC 9113 5.4.2 and 6.4: an endpoint that sent RST_STREAM must ignore the frames that still come on that stream
 * (counting their DATA against the connection window). Netty's decoder ignores them only while it still knows the
 * stream: once the reset is written the stream is forgotten, and each DATA or HEADERS frame the peer had in flight
 * becomes a stream error that Netty answers with RST_STREAM(STREAM_CLOSED). A peer that limits the resets it
 * receives (Netty's and grpc-java's servers: 200 in 30 s) takes a few aborted downloads' worth for a reset flood
 * and ends the connection with ENHANCE_YOUR_CALM, failing the streams in progress on it.
 *
 * <p>The codec's outermost encoder, which its stream errors are written through: it remembers the last streams
 * that closed with a reset sent, and on those drops a STREAM_CLOSED reset, completing its promise, before anything
 * counts or writes it. By then the decoder has counted the frame against the connection window and consumed it (the
 * window is given back), and the frame reader has decoded any header block (HPACK state kept): only the answer
 * changes. It remembers twice as many as the peer may have open at once (all of them reset with frames in flight,
 * and as many again), at least {@link #MIN_REMEMBERED}: on a client's connection what Sluice's
 * {@code http2.max_concurrent_streams} allows, on a server's what Sluice opens at most
 * ({@link Http2Pool#MAX_STREAMS_PER_CONNECTION}, the server's limit when lower). Frames that come after more later
 * resets are answered as before. A stream that ended without a reset still gets STREAM_CLOSED (RFC 9113 5.1), and every
 * other reset goes out as it did.
 */
final class IgnoreFramesAfterReset extends DecoratingHttp2ConnectionEncoder {
    /** Remembered at least, whatever the limit on open streams (512 bytes a connection). */
    static final int MIN_REMEMBERED = 128;
    /** The most open streams counted: {@code http2.max_concurrent_streams}' maximum (a limit never set is none). */
    static final int MAX_OPEN = 10_000;

    private final Http2Connection connection;
    /**
     * The last streams closed after a reset sent, as a ring; made at the connection's first such stream, grown
     * when the limit on open streams grew since (new SETTINGS).
     */
    private int[] resetStreams;
    private int next;

    IgnoreFramesAfterReset(Http2ConnectionEncoder delegate) {
        super(delegate);
        this.connection = delegate.connection();
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (stream.isResetSent()) {
                    remember(stream.id());
                }
            }
        });
    }

    @Override
    public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode,
                                        ChannelPromise promise) {
        if (errorCode == Http2Error.STREAM_CLOSED.code() && wasReset(streamId)) {
            return promise.setSuccess();
        }
        return super.writeRstStream(ctx, streamId, errorCode, promise);
    }

    private void remember(int streamId) {
        int capacity = capacity();
        int[] ring = resetStreams;
        if (ring == null || ring.length < capacity) {
            int[] grown = new int[capacity];
            if (ring != null) {
                for (int i = 0; i < ring.length; i++) {
                    grown[i] = ring[(next + i) % ring.length]; // oldest first
                }
                next = ring.length;
            }
            ring = resetStreams = grown;
        }
        ring[next] = streamId;
        next = (next + 1) % ring.length;
    }

    /** Twice the streams the peer may have open at once (see the class comment). */
    int capacity() {
        long open = connection.isServer() ? connection.remote().maxActiveStreams()
                : Math.min(connection.local().maxActiveStreams(), Http2Pool.MAX_STREAMS_PER_CONNECTION);
        return (int) Math.max(MIN_REMEMBERED, 2 * Math.min(open, MAX_OPEN));
    }

    /** Stream ids are never reused on a connection: one remembered here was reset by this side. */
    boolean wasReset(int streamId) {
        if (resetStreams == null || streamId <= 0) {
            return false;
        }
        for (int id : resetStreams) {
            if (id == streamId) {
                return true;
            }
        }
        return false;
    }
}
