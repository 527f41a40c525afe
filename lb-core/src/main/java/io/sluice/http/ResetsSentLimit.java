package io.sluice.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http2.DecoratingHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2LifecycleManager;
import java.util.concurrent.TimeUnit;

/**
 * The guard against a client that makes Sluice reset its streams (malformed frames or heads, the "MadeYouReset"
 * class of attack): more than {@link #MAX_RESETS} error resets written within {@link #WINDOW_SECONDS} end the
 * connection with GOAWAY {@code ENHANCE_YOUR_CALM}. Netty's own guard (its {@code Http2MaxRstFrameLimitEncoder},
 * with these defaults on a server's connection) counts every reset written, also those Sluice passes on from a
 * server ({@link #writeForwardedRstStream}): a backend that breaks a few hundred streams of one long-lived gRPC
 * client connection would have cost that client the connection. Those are written uncounted here instead, and
 * Netty's guard is off. As Netty's, {@code CANCEL} and {@code NO_ERROR} (Sluice's aborts, a refused upload) are
 * not counted. Under {@link IgnoreFramesAfterReset}, whose dropped {@code STREAM_CLOSED} never get here.
 */
final class ResetsSentLimit extends DecoratingHttp2ConnectionEncoder {
    /** Netty's defaults for a server's connection. */
    static final int MAX_RESETS = 200;
    static final int WINDOW_SECONDS = 30;
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(WINDOW_SECONDS);

    private Http2LifecycleManager lifecycle;
    private long windowStart = System.nanoTime();
    private int inWindow;

    ResetsSentLimit(Http2ConnectionEncoder delegate) {
        super(delegate);
    }

    @Override
    public void lifecycleManager(Http2LifecycleManager lifecycleManager) {
        this.lifecycle = lifecycleManager;
        super.lifecycleManager(lifecycleManager);
    }

    /**
     * Counts before writing: the reset that would be one too many is not written, the connection's GOAWAY covers
     * its stream. Written first, it reached the client or not depending on whether the transport had written it
     * before the close (epoll did, io_uring did not), so a client saw 200 or 201 resets.
     */
    @Override
    public ChannelFuture writeRstStream(ChannelHandlerContext ctx, int streamId, long errorCode,
                                        ChannelPromise promise) {
        if (errorCode != Http2Error.CANCEL.code() && errorCode != Http2Error.NO_ERROR.code() && overLimit()
                && lifecycle != null) {
            lifecycle.onError(ctx, true, Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
                    "more than %d resets caused within %d seconds", MAX_RESETS, WINDOW_SECONDS));
            ctx.close();
            return promise.setSuccess();
        }
        return super.writeRstStream(ctx, streamId, errorCode, promise);
    }

    /** A server's reset passed on to the client with its code: the client did nothing, nothing is counted. */
    ChannelFuture writeForwardedRstStream(ChannelHandlerContext ctx, int streamId, long errorCode,
                                          ChannelPromise promise) {
        return super.writeRstStream(ctx, streamId, errorCode, promise);
    }

    /** Counts one more reset in the window: true when it is one more than {@link #MAX_RESETS}. */
    private boolean overLimit() {
        long now = System.nanoTime();
        if (now - windowStart >= WINDOW_NANOS) {
            windowStart = now;
            inWindow = 1;
            return false;
        }
        return ++inWindow > MAX_RESETS;
    }
}
