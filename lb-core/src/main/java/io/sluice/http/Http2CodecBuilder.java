package io.sluice.http;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * Netty's frame codec as Sluice has it on connections to servers (clients' connections use its {@link #roundRobin}
 * connection and {@link IgnoreFramesAfterReset} under {@link Http2FrontConnection}). The peer's windows are
 * shared among the streams round-robin ({@link UniformStreamByteDistributor}) instead of by RFC 7540 priorities,
 * which RFC 9113 deprecated and peers no longer send: Netty's default keeps a priority-tree node per stream, and
 * fairness between streams is all Sluice needs (one stalled stream must not hold up the others). Frames on streams
 * Sluice reset are ignored, not answered ({@link IgnoreFramesAfterReset}). Frames are written by
 * {@link Http2CompactFrameWriter} (through {@link Http2CompactCodec}, built from the connection and the initial
 * settings when the codec is), with the guards Netty's builder would put in.
 */
class Http2CodecBuilder extends Http2FrameCodecBuilder {
    private final DefaultHttp2Connection connection;
    private final Http2HeadersEncoder.SensitivityDetector sensitive;

    Http2CodecBuilder(boolean server, Http2HeadersEncoder.SensitivityDetector sensitive) {
        this.connection = roundRobin(server);
        this.sensitive = sensitive;
    }

    /** A connection whose flow controller shares the peer's windows among the streams round-robin. */
    static DefaultHttp2Connection roundRobin(boolean server) {
        DefaultHttp2Connection c = new DefaultHttp2Connection(server);
        c.remote().flowController(new DefaultHttp2RemoteFlowController(c, new UniformStreamByteDistributor(c)));
        return c;
    }

    /** The connection the codec is built on (the builder's own setter is not allowed with a codec given). */
    @Override
    protected Http2Connection connection() {
        return connection;
    }

    @Override
    public Http2FrameCodec build() {
        Http2Settings settings = initialSettings();
        Http2CompactCodec c = new Http2CompactCodec(connection, settings, sensitive, false,
                Http2CodecUtil.DEFAULT_MAX_QUEUED_CONTROL_FRAMES);
        codec(c.decoder, c.encoder);
        return super.build();
    }

    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                    Http2Settings initialSettings) {
        return super.build(decoder, new IgnoreFramesAfterReset(encoder), initialSettings);
    }
}
