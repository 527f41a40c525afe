package io.sluice.http;

import io.netty.handler.codec.http2.DefaultHttp2ConnectionDecoder;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ControlFrameLimits;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2PromisedRequestVerifier;
import io.netty.handler.codec.http2.Http2Settings;

/**
 * The encoder and decoder Netty's handler builder makes from a connection (its {@code buildFromConnection}, with
 * header validation, required pseudo-headers, and the control-frame flood guard), but writing frames with
 * {@link Http2CompactFrameWriter}: the builder has no way to take another frame writer, only a whole codec.
 * What the builder still adds around a codec (the active-stream limit, the empty-DATA and RST_STREAM flood guards
 * of the decoder) it adds to this one as to its own.
 */
final class Http2CompactCodec {
    /** Netty's builder's default for a small CONTINUATION flood. */
    private static final int MAX_SMALL_CONTINUATION_FRAMES = 16;

    final Http2ConnectionDecoder decoder;
    final Http2ConnectionEncoder encoder;

    /**
     * {@code requiredPseudoHeaders}: refuse heads without the pseudo-headers their kind requires (Netty's builder
     * checks them only when told to, as client connections do).
     */
    Http2CompactCodec(Http2Connection connection, Http2Settings settings, Http2HeadersEncoder.SensitivityDetector sensitive,
                      boolean requiredPseudoHeaders, int maxQueuedControlFrames) {
        Long maxHeaderList = settings.maxHeaderListSize();
        DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(new DefaultHttp2HeadersDecoder(true,
                maxHeaderList == null ? Http2CodecUtil.DEFAULT_HEADER_LIST_SIZE : maxHeaderList, -1),
                MAX_SMALL_CONTINUATION_FRAMES);
        Http2ConnectionEncoder enc = new DefaultHttp2ConnectionEncoder(connection,
                new Http2CompactFrameWriter(new DefaultHttp2HeadersEncoder(sensitive)));
        if (maxQueuedControlFrames > 0) {
            enc = Http2ControlFrameLimits.limit(enc, maxQueuedControlFrames);
        }
        this.encoder = enc;
        this.decoder = new DefaultHttp2ConnectionDecoder(connection, enc, reader,
                Http2PromisedRequestVerifier.ALWAYS_VERIFY, true, true, true, requiredPseudoHeaders);
    }
}
