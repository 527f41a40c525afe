package io.sluice.health;

import io.netty.buffer.Unpooled;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs one probe on the target's event loop and reports exactly one {@link ProbeResult}: success, failure
 * with a reason, or timeout. Never blocks; the probe's channel is always closed afterwards.
 */
final class Prober {
    private final Class<? extends Channel> channelClass;
    /** The transport's datagram channel, for DNS checks; null where none was given (those checks then fail). */
    private final Class<? extends Channel> datagramClass;
    /**
     * Probes still open, so that {@link #closeAll} can close them while their event loops still run: a
     * channel left for the loop's own shutdown can lose the buffer of its pending io_uring read.
     */
    private final ChannelGroup inFlight = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    Prober(Class<? extends Channel> channelClass, Class<? extends Channel> datagramClass) {
        this.channelClass = channelClass;
        this.datagramClass = datagramClass;
    }

    void probe(HealthTarget target, InetSocketAddress address, Consumer<ProbeResult> done) {
        ProbeSpec spec = target.spec();
        Attempt attempt = new Attempt(done);
        long timeoutMillis = Math.max(1, spec.timeout().toMillis());
        if (spec.kind() == ProbeSpec.Kind.DNS) {
            if (datagramClass == null) {
                attempt.finish(ProbeResult.failure("no datagram transport for dns checks"));
                return;
            }
            DnsProbe.start(target, address, datagramClass, attempt, inFlight);
            armTimeout(target, attempt, timeoutMillis);
            return;
        }
        Bootstrap b = new Bootstrap().group(target.loop()).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
                .option(ChannelOption.TCP_NODELAY, true)
                // Close probes with a reset, as HAProxy does: thousands of checks a second would otherwise
                // leave as many sockets in TIME_WAIT and eat the ephemeral ports live traffic needs.
                .option(ChannelOption.SO_LINGER, 0)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (spec.kind() == ProbeSpec.Kind.HTTP) {
                            ch.pipeline().addLast(new HttpClientCodec(4096, 16 * 1024, 8192),
                                    new ResponseCheck(spec, attempt));
                        } else if (spec.tls() != null) {
                            ch.pipeline().addLast(QuietEnd.INSTANCE);
                        }
                    }
                });
        ChannelFuture f = b.connect(address);
        attempt.channel = f.channel();
        inFlight.add(f.channel());
        armTimeout(target, attempt, timeoutMillis);
        f.addListener(c -> {
            if (!c.isSuccess()) {
                Throwable cause = c.cause();
                String why = cause instanceof ConnectException ? "connection refused"
                        : cause instanceof io.netty.channel.ConnectTimeoutException
                        ? "connect timeout after " + timeoutMillis + "ms"
                        : cause.getClass().getSimpleName() + ": " + cause.getMessage();
                attempt.finish(cause instanceof io.netty.channel.ConnectTimeoutException
                        ? new ProbeResult(ProbeResult.Outcome.TIMEOUT, why) : ProbeResult.failure(why));
            } else if (spec.tls() == null) {
                writePreamble(spec, f.channel());
                check(spec, f.channel(), address, attempt);
            } else {
                writePreamble(spec, f.channel());
                spec.tls().start(f.channel(), target).addListener(hs -> {
                    if (hs.isSuccess()) {
                        check(spec, f.channel(), address, attempt);
                    } else {
                        attempt.finish(ProbeResult.failure("TLS handshake failed: " + hs.cause().getMessage()));
                    }
                });
            }
        });
    }

    private static void armTimeout(HealthTarget target, Attempt attempt, long timeoutMillis) {
        if (attempt.finished) {
            return;
        }
        attempt.timer = target.loop().schedule(
                () -> attempt.finish(new ProbeResult(ProbeResult.Outcome.TIMEOUT, "timeout after "
                        + timeoutMillis + "ms")), timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * The spec's first bytes, before TLS and the check. Written from the first handler's context, so they go to
     * the socket as they are, past the HTTP codec (which takes only HTTP messages).
     */
    private static void writePreamble(ProbeSpec spec, Channel ch) {
        if (spec.preamble() == null) {
            return;
        }
        ChannelHandlerContext first = ch.pipeline().firstContext();
        if (first == null) {
            ch.writeAndFlush(Unpooled.wrappedBuffer(spec.preamble()), ch.voidPromise());
        } else {
            first.writeAndFlush(Unpooled.wrappedBuffer(spec.preamble()), first.voidPromise());
        }
    }

    /**
     * The connection (and its TLS, if any) is up: a TCP check has passed, an HTTP check sends its request, a
     * gRPC check or an HTTP check over HTTP/2 starts HTTP/2 (only now, so that its preface goes through the TLS)
     * and sends its call or request.
     */
    private static void check(ProbeSpec spec, Channel ch, InetSocketAddress address, Attempt attempt) {
        if (spec.kind() == ProbeSpec.Kind.TCP) {
            attempt.finish(ProbeResult.OK);
            return;
        }
        String authority = spec.host() != null ? spec.host() : address.getHostString() + ":" + address.getPort();
        if (spec.kind() == ProbeSpec.Kind.GRPC || spec.kind() == ProbeSpec.Kind.HTTP2) {
            if (ch.pipeline().get(QuietEnd.class) != null) {
                ch.pipeline().remove(QuietEnd.class); // the HTTP/2 codec reads from here on
            }
            if (spec.kind() == ProbeSpec.Kind.GRPC) {
                GrpcHealthCheck.start(ch, authority, spec.path(), attempt);
            } else {
                HttpOverHttp2.start(ch, request(spec, authority), new ResponseCheck(spec, attempt), attempt);
            }
            return;
        }
        ch.writeAndFlush(request(spec, authority)).addListener(w -> {
            if (!w.isSuccess()) {
                attempt.finish(ProbeResult.failure("write failed: " + w.cause().getMessage()));
            }
        });
    }

    /** An HTTP check's request; {@code Connection: close} is dropped when it goes over HTTP/2. */
    private static DefaultFullHttpRequest request(ProbeSpec spec, String authority) {
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(spec.method()), spec.path());
        req.headers().set(HttpHeaderNames.HOST, authority);
        req.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        req.headers().set(HttpHeaderNames.USER_AGENT, "sluice-health-check");
        req.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return req;
    }

    /** Closes every probe still open and waits (briefly) until they are closed. */
    void closeAll() {
        inFlight.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** One probe in flight: reports once, cancels its timer, closes its channel. */
    static final class Attempt {
        private final Consumer<ProbeResult> done;
        Channel channel;
        ScheduledFuture<?> timer;
        boolean finished;

        Attempt(Consumer<ProbeResult> done) {
            this.done = done;
        }

        void finish(ProbeResult result) {
            if (finished) {
                return;
            }
            finished = true;
            if (timer != null) {
                timer.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
            done.accept(result);
        }
    }

    /** A TCP probe over TLS reads nothing: a failed handshake's exception ends here, its reason in the result. */
    @ChannelHandler.Sharable
    private static final class QuietEnd extends ChannelInboundHandlerAdapter {
        static final QuietEnd INSTANCE = new QuietEnd();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Checks the status, then up to {@link ProbeSpec#MAX_BODY} bytes of body when a substring is expected. */
    private static final class ResponseCheck extends SimpleChannelInboundHandler<HttpObject> {
        private final ProbeSpec spec;
        private final Attempt attempt;
        private final StringBuilder body = new StringBuilder();
        private int status = -1;

        ResponseCheck(ProbeSpec spec, Attempt attempt) {
            this.spec = spec;
            this.attempt = attempt;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpResponse res) {
                if (!res.decoderResult().isSuccess()) {
                    attempt.finish(ProbeResult.failure("malformed response"));
                    return;
                }
                status = res.status().code();
                if (!spec.statusAccepted(status)) {
                    attempt.finish(ProbeResult.failure("status " + status));
                    return;
                }
                if (spec.expectBody() == null) {
                    attempt.finish(ProbeResult.OK);
                    return;
                }
            }
            if (msg instanceof HttpContent content) {
                ByteBuf buf = content.content();
                int room = ProbeSpec.MAX_BODY - body.length();
                if (room > 0) {
                    body.append(buf.toString(buf.readerIndex(), Math.min(room, buf.readableBytes()),
                            StandardCharsets.UTF_8));
                }
                if (body.indexOf(spec.expectBody()) >= 0) {
                    attempt.finish(ProbeResult.OK);
                } else if (msg instanceof LastHttpContent || body.length() >= ProbeSpec.MAX_BODY) {
                    attempt.finish(ProbeResult.failure("status " + status + " but body lacks \""
                            + spec.expectBody() + "\""));
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            attempt.finish(ProbeResult.failure(status < 0 ? "closed before a response" : "closed mid-response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            attempt.finish(ProbeResult.failure(cause.getClass().getSimpleName() + ": " + cause.getMessage()));
        }
    }
}
