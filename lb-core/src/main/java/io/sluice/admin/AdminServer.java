package io.sluice.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.config.HostPort;
import io.sluice.runtime.ReloadResult;
import io.sluice.net.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoint: {@code /metrics} (Prometheus text), {@code /healthz} (the process answers),
 * {@code /ready} (every listener is bound and not draining) and {@code POST /admin/reload}. It runs on an event loop of its own, so a slow
 * scrape never delays traffic and a traffic storm never hides the metrics.
 */
public final class AdminServer {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HostPort bind;
    private final Supplier<String> metrics;
    private final BooleanSupplier ready;
    private final Supplier<CompletableFuture<ReloadResult>> reload;
    private Channel channel;
    /** Scrapers' keep-alive connections, closed by {@link #stop} while the admin loop still runs. */
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    public AdminServer(HostPort bind, Supplier<String> metrics, BooleanSupplier ready,
                       Supplier<CompletableFuture<ReloadResult>> reload) {
        this.bind = bind;
        this.metrics = metrics;
        this.ready = ready;
        this.reload = reload;
    }

    public void start(EventLoopGroup group, Transport transport) throws InterruptedException {
        channel = new ServerBootstrap()
                .group(group)
                .channel(transport.serverChannelClass())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new ReadTimeoutHandler(30),
                                new HttpServerCodec(4096, 8192, 8192),
                                new HttpObjectAggregator(64 * 1024),
                                new Handler());
                    }
                })
                .bind(bind.toBindAddress()).sync().channel();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public void stop() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, req, HttpResponseStatus.BAD_REQUEST, "bad request\n", "text/plain", false);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            if (path.equals("/admin/reload")) {
                reload(ctx, req);
                return;
            }
            boolean head = req.method().equals(HttpMethod.HEAD);
            if (!req.method().equals(HttpMethod.GET) && !head) {
                respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET\n", "text/plain", false);
                return;
            }
            switch (path) {
                case "/metrics" -> respond(ctx, req, HttpResponseStatus.OK, metrics.get(), PROMETHEUS_TEXT, head);
                case "/healthz" -> respond(ctx, req, HttpResponseStatus.OK, "ok\n", "text/plain", head);
                case "/ready" -> {
                    boolean ok = ready.getAsBoolean();
                    respond(ctx, req, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                            ok ? "ready\n" : "not ready\n", "text/plain", head);
                }
                default -> respond(ctx, req, HttpResponseStatus.NOT_FOUND,
                        "not found; try /metrics, /healthz or /ready\n", "text/plain", head);
            }
        }

        /**
         * The reload runs on the control thread; the answer is written when it is done, on this channel's loop.
         * The request is held (retained) until then for its keep-alive flag.
         */
        private void reload(ChannelHandlerContext ctx, FullHttpRequest req) {
            if (!req.method().equals(HttpMethod.POST)) {
                respond(ctx, req, HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST\n", "text/plain", false);
                return;
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            reload.get().whenComplete((r, failure) -> ctx.executor().execute(() -> {
                if (failure != null) {
                    send(ctx, keepAlive, HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "{\"result\":\"failed\",\"message\":" + Json.quote(failure.getMessage()) + "}\n",
                            "application/json");
                } else {
                    send(ctx, keepAlive, HttpResponseStatus.valueOf(ReloadAnswer.status(r)), ReloadAnswer.json(r),
                            "application/json");
                }
            }));
        }

        private void respond(ChannelHandlerContext ctx, FullHttpRequest req, HttpResponseStatus status, String body,
                             String type, boolean head) {
            send(ctx, HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess(), status, body, type, head);
        }

        private void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body,
                          String type) {
            send(ctx, keepAlive, status, body, type, false);
        }

        private void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body,
                          String type, boolean head) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, type.startsWith("text/plain;") ? type : type + "; charset=utf-8");
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            if (keepAlive) {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(res);
            } else {
                res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
