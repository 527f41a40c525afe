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
import io.sluice.config.AdminConfig;
import io.sluice.net.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The admin HTTP endpoint: {@code /metrics} (Prometheus text), {@code /healthz} (the process answers),
 * {@code /ready} (every listener is bound and not draining), the status page at {@code /}, and the admin API
 * under {@code /admin/} ({@link AdminApi}). It runs on an event loop of its own, so a slow scrape never delays
 * traffic and a traffic storm never hides the metrics; anything that changes state runs on the control thread
 * and is answered when done.
 */
public final class AdminServer {
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final AdminConfig config;
    private final Supplier<String> metrics;
    private final BooleanSupplier ready;
    private final AdminApi api;
    /** Null without admin.token_file; replaced when a reload reads the file again. */
    private volatile byte[] token;
    private Channel channel;
    /** Scrapers' keep-alive connections, closed by {@link #stop} while the admin loop still runs. */
    private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    public AdminServer(AdminConfig config, String token, Supplier<String> metrics, BooleanSupplier ready,
                       AdminControl control) {
        this.config = config;
        this.metrics = metrics;
        this.ready = ready;
        this.api = new AdminApi(control, () -> token != null);
        token(token);
    }

    /** The bearer token writes need from now on (null: none). */
    public void token(String value) {
        this.token = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
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
                .bind(config.bind().toBindAddress()).sync().channel();
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public AdminConfig config() {
        return config;
    }

    public void stop() {
        if (channel != null) {
            channel.close().syncUninterruptibly();
        }
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** Whether {@code req} carries the token, when one is needed for it. */
    private boolean authorized(FullHttpRequest req, boolean needed) {
        byte[] expected = token;
        if (expected == null || !needed) {
            return true;
        }
        String h = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        // Constant time, so that the answer's timing says nothing about how much of a guess was right.
        return MessageDigest.isEqual(expected, h.substring(7).strip().getBytes(StandardCharsets.UTF_8));
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
            if (!req.decoderResult().isSuccess()) {
                send(ctx, false, new Answer(400, "bad request\n", "text/plain"), false);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            HttpMethod method = req.method();
            boolean head = method.equals(HttpMethod.HEAD);
            if (path.startsWith("/admin/")) {
                if (!authorized(req, AdminApi.isWrite(method) || config.protectReads())) {
                    send(ctx, keepAlive, Answer.error(401, "this needs the admin token: Authorization: Bearer ..."),
                            head);
                    return;
                }
                String body = req.content().toString(StandardCharsets.UTF_8);
                api.handle(method, path, body).whenComplete((answer, failure) -> ctx.executor().execute(() ->
                        send(ctx, keepAlive, failure == null ? answer
                                : Answer.error(500, String.valueOf(failure.getMessage())), head)));
                return;
            }
            if (!method.equals(HttpMethod.GET) && !head) {
                send(ctx, keepAlive, new Answer(405, "use GET\n", "text/plain"), false);
                return;
            }
            Answer answer = switch (path) {
                case "/metrics" -> authorized(req, config.protectReads())
                        ? new Answer(200, metrics.get(), PROMETHEUS_TEXT)
                        : Answer.error(401, "this needs the admin token: Authorization: Bearer ...");
                case "/healthz" -> new Answer(200, "ok\n", "text/plain");
                case "/ready" -> ready.getAsBoolean() ? new Answer(200, "ready\n", "text/plain")
                        : new Answer(503, "not ready\n", "text/plain");
                case "/", "/index.html" -> new Answer(200, StatusPage.html(), "text/html");
                default -> new Answer(404, "not found; try /, /metrics, /healthz, /ready or /admin/clusters\n",
                        "text/plain");
            };
            send(ctx, keepAlive, answer, head);
        }

        private void send(ChannelHandlerContext ctx, boolean keepAlive, Answer answer, boolean head) {
            byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
            ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes);
            FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(answer.status()), content);
            String type = answer.type();
            res.headers().set(HttpHeaderNames.CONTENT_TYPE, type.contains("charset") ? type : type + "; charset=utf-8");
            res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            res.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
            if (answer.status() == 401) {
                res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"sluice\"");
            }
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
