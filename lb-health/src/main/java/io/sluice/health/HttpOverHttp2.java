package io.sluice.health;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

/**
 * An HTTP check over HTTP/2, for servers that speak only HTTP/2: the same request and the same response check
 * as over HTTP/1.1, on one stream of the probe connection (Netty's converter makes the request's head
 * {@code :method}, {@code :path}, {@code :authority} from Host, {@code :scheme} from the connection's TLS, and
 * drops the connection-specific headers HTTP/2 forbids).
 */
final class HttpOverHttp2 {
    private HttpOverHttp2() {
    }

    /** Puts HTTP/2 on the (connected, maybe TLS) probe channel and sends {@code request} on a new stream. */
    static void start(Channel ch, FullHttpRequest request, ChannelInboundHandlerAdapter responseCheck,
                      Prober.Attempt attempt) {
        // A server does not open streams to a client; the handler for such streams only has to exist.
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
        new Http2StreamChannelBootstrap(ch).handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false), responseCheck);
            }
        }).open().addListener(opened -> {
            if (!opened.isSuccess()) {
                request.release();
                attempt.finish(ProbeResult.failure("could not open an HTTP/2 stream: " + opened.cause().getMessage()));
                return;
            }
            ((Http2StreamChannel) opened.getNow()).writeAndFlush(request).addListener(w -> {
                if (!w.isSuccess()) {
                    attempt.finish(ProbeResult.failure("write failed: " + w.cause().getMessage()));
                }
            });
        });
    }
}
