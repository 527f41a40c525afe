package io.sluice.http;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2RemoteFlowController;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.UniformStreamByteDistributor;

/**
 * Netty's frame codec as Sluice has it on connections to servers (clients' connections use its {@link #roundRobin}
 * connection and {@link IgnoreFramesAfterReset} under {@link Http2FrontConnection}). The peer's windows are
 * shared among the streams round-robin ({@link UniformStreamByteDistributor}) instead of by RFC 7540 priorities,
 * which RFC 9113 deprecated and peers no longer send: Netty's default keeps a priority-tree node per stream, and
 * fairness between streams is all Sluice needs (one stalled stream must not hold up the others). Frames on streams
 * Sluice reset are ignored, not answered ({@link IgnoreFramesAfterReset}).
 */
class Http2CodecBuilder extends Http2FrameCodecBuilder {
    Http2CodecBuilder(boolean server) {
        connection(roundRobin(server));
    }

    /** A connection whose flow controller shares the peer's windows among the streams round-robin. */
    static DefaultHttp2Connection roundRobin(boolean server) {
        DefaultHttp2Connection c = new DefaultHttp2Connection(server);
        c.remote().flowController(new DefaultHttp2RemoteFlowController(c, new UniformStreamByteDistributor(c)));
        return c;
    }

    @Override
    protected Http2FrameCodec build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                    Http2Settings initialSettings) {
        return super.build(decoder, new IgnoreFramesAfterReset(encoder), initialSettings);
    }
}
