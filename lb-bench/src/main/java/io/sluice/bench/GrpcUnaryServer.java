package io.sluice.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC server of the load comparison's {@code grpc_unary} scenario: cleartext HTTP/2 (prior knowledge) on
 * each port given, answering every call that ends its request with one fixed unary response: HEADERS (200,
 * {@code content-type: application/grpc}), one length-prefixed message, and trailers {@code grpc-status: 0}.
 * The request is read and dropped, whatever its path: the scenario measures the proxies, not a service, and
 * h2load sends the same message every time. One event loop, on epoll when the machine has it, like the
 * NGINX backends' single worker.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.sluice.bench.GrpcUnaryServer PORT...}
 */
public final class GrpcUnaryServer {
    /** The response message (a protobuf field 1, bytes, of 59 B), so that the DATA frame carries 64 B in all. */
    static final int MESSAGE_SIZE = 59;

    private GrpcUnaryServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length == 0) {
            System.err.println("usage: GrpcUnaryServer PORT...");
            System.exit(2);
        }
        List<Channel> bound = start(Arrays.stream(args).mapToInt(Integer::parseInt).toArray());
        System.out.println("gRPC unary server on " + String.join(", ", args)
                + (Epoll.isAvailable() ? " (epoll)" : " (nio)"));
        for (Channel c : bound) {
            c.closeFuture().sync();
        }
    }

    /** Binds the ports on 127.0.0.1 (0: any free one), all served by one event loop; closing them all stops it. */
    static List<Channel> start(int... ports) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        Class<? extends ServerChannel> type = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, io);
        List<Channel> bound = new ArrayList<>();
        for (int port : ports) {
            Channel c = new ServerBootstrap().group(loop).channel(type)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                                    .initialSettings(Http2Settings.defaultSettings().maxConcurrentStreams(1000))
                                    .build(), new UnaryAnswer());
                        }
                    })
                    .bind("127.0.0.1", port).sync().channel();
            bound.add(c);
            c.closeFuture().addListener(f -> {
                if (bound.stream().noneMatch(Channel::isOpen)) {
                    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
                }
            });
        }
        return bound;
    }

    static ByteBuf responseMessage() {
        ByteBuf m = Unpooled.buffer(5 + MESSAGE_SIZE);
        m.writeByte(0).writeInt(MESSAGE_SIZE); // not compressed, length
        m.writeByte(0x0a).writeByte(MESSAGE_SIZE - 2); // field 1, length-delimited
        for (int i = 0; i < MESSAGE_SIZE - 2; i++) {
            m.writeByte('x');
        }
        return Unpooled.unreleasableBuffer(m.asReadOnly());
    }

    /** Answers on the connection's own channel (no child channel per stream: one less object per call). */
    @ChannelHandler.Sharable
    static final class UnaryAnswer extends ChannelInboundHandlerAdapter {
        private static final ByteBuf MESSAGE = responseMessage();
        private static final Http2Headers TRAILERS = new DefaultHttp2Headers().set("grpc-status", "0");

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                    answer(ctx, h.stream());
                } else if (msg instanceof Http2DataFrame d) {
                    if (d.initialFlowControlledBytes() > 0) { // give the window back: the codec does not
                        ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
                    }
                    if (d.isEndStream()) {
                        answer(ctx, d.stream());
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private static void answer(ChannelHandlerContext ctx, Http2FrameStream stream) {
            Http2Headers head = new DefaultHttp2Headers().status("200").set("content-type", "application/grpc");
            ctx.write(new DefaultHttp2HeadersFrame(head).stream(stream));
            ctx.write(new DefaultHttp2DataFrame(MESSAGE.duplicate()).stream(stream));
            ctx.write(new DefaultHttp2HeadersFrame(TRAILERS, true).stream(stream));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
