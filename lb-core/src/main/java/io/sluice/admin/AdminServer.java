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

    /**
     * Whether a browser could have been made to send {@code req} by another site: a cross-site form post to a
     * loopback admin endpoint, or a DNS-rebinding page reading one. A write must not carry a foreign Origin;
     * on a loopback bind, the Host must name loopback.
     */
    private boolean crossSite(FullHttpRequest req, boolean write) {
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (config.loopback() && host != null && !loopbackHost(host)) {
            return true;
        }
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        return write && origin != null && (host == null || !origin.equalsIgnoreCase("http://" + host));
    }

    private static boolean loopbackHost(String host) {
        String h = host.startsWith("[") ? host.substring(0, Math.max(1, host.indexOf(']') + 1))
                : host.contains(":") ? host.substring(0, host.lastIndexOf(':')) : host;
        return h.equalsIgnoreCase("localhost") || h.startsWith("127.") || h.equals("[::1]");
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        /**
         * Answers go out in request order: a pipelined read must not overtake a write still running on the
         * control thread.
         */
        private java.util.concurrent.CompletableFuture<?> previous =
                java.util.concurrent.CompletableFuture.completedFuture(null);

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
            if (!req.decoderResult().isSuccess()) {
                reply(ctx, false, new Answer(400, "bad request\n", "text/plain"), false);
                return;
            }
            String path = new QueryStringDecoder(req.uri()).path();
            HttpMethod method = req.method();
            boolean head = method.equals(HttpMethod.HEAD);
            if (path.startsWith("/admin/") || path.equals("/metrics")) {
                if (crossSite(req, AdminApi.isWrite(method))) {
                    reply(ctx, keepAlive, Answer.error(403, "cross-site request refused"), head);
                    return;
                }
            }
            if (path.startsWith("/admin/")) {
                if (!authorized(req, AdminApi.isWrite(method) || config.protectReads())) {
                    reply(ctx, keepAlive, Answer.error(401, "this needs the admin token: Authorization: Bearer ..."),
                            head);
                    return;
                }
                String body = req.content().toString(StandardCharsets.UTF_8);
                java.util.concurrent.CompletableFuture<Answer> answer = api.handle(method, path, body)
                        .exceptionally(failure -> Answer.error(500, String.valueOf(failure.getMessage())));
                after(ctx, previous.thenCombine(answer, (x, a) -> a), keepAlive, head);
                return;
            }
            if (!method.equals(HttpMethod.GET) && !head) {
                reply(ctx, keepAlive, new Answer(405, "use GET\n", "text/plain"), false);
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
            reply(ctx, keepAlive, answer, head);
        }

        /** An answer ready now: sent at once unless an earlier one is still being worked out. */
        private void reply(ChannelHandlerContext ctx, boolean keepAlive, Answer answer, boolean head) {
            if (previous.isDone()) {
                send(ctx, keepAlive, answer, head);
            } else {
                after(ctx, previous.thenApply(x -> answer), keepAlive, head);
            }
        }

        /**
         * Sends {@code answer} on this connection's loop once it is ready; the next answer waits until this one
         * was written ({@link #previous} completes only then, on the loop).
         */
        private void after(ChannelHandlerContext ctx, java.util.concurrent.CompletableFuture<Answer> answer,
                           boolean keepAlive, boolean head) {
            java.util.concurrent.CompletableFuture<Void> sent = new java.util.concurrent.CompletableFuture<>();
            answer.whenComplete((a, failure) -> ctx.executor().execute(() -> {
                send(ctx, keepAlive, a != null ? a : Answer.error(500, String.valueOf(failure)), head);
                sent.complete(null);
            }));
            previous = sent;
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
