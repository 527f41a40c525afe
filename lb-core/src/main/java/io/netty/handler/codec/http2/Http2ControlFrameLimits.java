package io.netty.handler.codec.http2;

/**
 * Netty's guard against control-frame floods ({@link Http2ControlFrameLimitEncoder}, package-private), for
 * Sluice's HTTP/2 handlers built from a codec of their own ({@code io.sluice.http.Http2CompactCodec}): Netty's
 * builder only installs it when it builds the encoder itself, with its own frame writer.
 */
public final class Http2ControlFrameLimits {
    private Http2ControlFrameLimits() {
    }

    /** What {@code encoderEnforceMaxQueuedControlFrames(max)} puts around the encoder. */
    public static Http2ConnectionEncoder limit(Http2ConnectionEncoder encoder, int maxQueuedControlFrames) {
        return new Http2ControlFrameLimitEncoder(encoder, maxQueuedControlFrames);
    }
}
