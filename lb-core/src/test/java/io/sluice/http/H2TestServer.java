package io.sluice.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import io.sluice.testing.TestCertificates;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP/2 server for tests (h2c by prior knowledge, or TLS with ALPN h2), built on Netty's frame API so
 * that it can do what real servers do to a proxy: refuse streams with GOAWAY, reset streams with a given code,
 * send trailers, read a request body slowly, send a large body only as fast as its peer's window allows. It
 * records connections, requests, the resets it received and the SNI of each handshake.
 *
 * <p>Paths: {@code /big/N} answers N bytes; {@code /trailers} answers with trailers; {@code /reset/CODE}
 * sends a head and some body, then RST_STREAM CODE; {@code /interim} a 103 (with a Link header) before its 200; {@code /hold} never answers; {@code /early-reset/CODE}
 * resets at once without a response; {@code /bad-status} answers a malformed :status; {@code /early-answer/N}
 * answers N bytes at once without reading the upload, then trailers and RST_STREAM NO_ERROR at
 * {@link #finishEarlyAnswers}; {@code /stall-upload} reads its body only once {@link #releaseUploads}
 * is called; anything else answers "NAME METHOD PATH" once the request body is in.
 */
final class H2TestServer implements AutoCloseable {
    record Request(String method, String path, String authority, String scheme, Http2Headers headers,
                   int connection, int streamId) {
    }

    private final String name;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    private final Long maxConcurrentStreams;
    /** Every this many streams on one connection, the server sends GOAWAY refusing that stream; 0 = never. */
    volatile int goAwayEvery;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger openConnections = new AtomicInteger();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** Streams the server received but refused unprocessed (above a GOAWAY's last-stream-id). */
    final AtomicInteger refused = new AtomicInteger();
    final List<Long> resetsReceived = new CopyOnWriteArrayList<>();
    /**
     * The code of every RST_STREAM read, on any connection, including those on streams the server already forgot
     * (which never reach a stream, so {@link #resetsReceived} misses them).
     */
    final List<Long> resetFramesRead = new CopyOnWriteArrayList<>();
    /** The code of every GOAWAY the server wrote. */
    final List<Long> goAwaysSent = new CopyOnWriteArrayList<>();
    final List<String> sniNames = new CopyOnWriteArrayList<>();
    /** Request body bytes the server consumed (read), over all streams. */
    final AtomicLong uploadConsumed = new AtomicLong();
    /** Response body bytes written per path. */
    final Map<String, AtomicLong> sent = new ConcurrentHashMap<>();
    private final List<Channel> stalledUploads = new CopyOnWriteArrayList<>();
    /**
     * Netty's guard against RST_STREAM floods (200 in 30 s, then GOAWAY ENHANCE_YOUR_CALM) for connections made
     * from now on; off for tests that abort many streams on purpose.
     */
    volatile boolean rstFloodGuard = true;
    /** SETTINGS_MAX_HEADER_LIST_SIZE for connections made from now on; 0: Netty's default. */
    volatile long maxHeaderListSize;
    /** {@code /early-answer/N} streams whose body is out, waiting for {@link #finishEarlyAnswers}. */
    private final List<Stream> earlyAnswers = new CopyOnWriteArrayList<>();
    /** Early answers that ended: trailers, then RST_STREAM NO_ERROR written. */
    final AtomicInteger earlyAnswersEnded = new AtomicInteger();
    /** {@code /big-trailers/N} responses whose body is on the socket; their trailers wait for {@link #releaseTrailers}. */
    final AtomicInteger bodiesWritten = new AtomicInteger();
    /** Trailers of {@code /big-trailers/N} responses written to the socket. */
    final AtomicInteger trailersWritten = new AtomicInteger();
    private final List<ChannelHandlerContext> heldTrailers = new CopyOnWriteArrayList<>();
    private volatile boolean uploadsReleased;

    /** h2c by prior knowledge. */
    H2TestServer(String name, Long maxConcurrentStreams) throws InterruptedException {
        this(name, maxConcurrentStreams, null);
    }

    /** With {@code cert}: TLS offering only h2 by ALPN. */
    H2TestServer(String name, Long maxConcurrentStreams, TestCertificates.Issued cert) throws InterruptedException {
        this(name, maxConcurrentStreams, cert, 0);
    }

    /** h2c on {@code port} (0: any), e.g. to come back where a closed one was. */
    H2TestServer(String name, int port) throws InterruptedException {
        this(name, null, null, port);
    }

    private H2TestServer(String name, Long maxConcurrentStreams, TestCertificates.Issued cert, int port)
            throws InterruptedException {
        this.name = name;
        this.maxConcurrentStreams = maxConcurrentStreams;
        SslContext tls = cert == null ? null : tls(cert);
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .option(io.netty.channel.ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.incrementAndGet();
                        openConnections.incrementAndGet();
                        ch.closeFuture().addListener(f -> openConnections.decrementAndGet());
                        int connection = connections.get();
                        int[] goAwayLast = {-1};
                        if (tls == null) {
                            addHttp2(ch, connection, goAwayLast);
                            return;
                        }
                        // HTTP/2 goes in once SNI picked the context and the SslHandler is in place: the server's
                        // preface must not leave in plaintext.
                        ch.pipeline().addLast(new SniHandler(host -> tls));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                                if (evt instanceof SniCompletionEvent sni) {
                                    sniNames.add(sni.hostname() == null ? "" : sni.hostname());
                                    ctx.pipeline().remove(this);
                                    addHttp2(ch, connection, goAwayLast);
                                }
                                ctx.fireUserEventTriggered(evt);
                            }
                        });
                    }
                }).bind("127.0.0.1", port).sync().channel();
    }

    private void addHttp2(Channel ch, int connection, int[] goAwayLast) {
        Http2Settings settings = Http2Settings.defaultSettings();
        if (maxConcurrentStreams != null) {
            settings.maxConcurrentStreams(maxConcurrentStreams);
        }
        if (maxHeaderListSize > 0) {
            settings.maxHeaderListSize(maxHeaderListSize);
        }
        Http2FrameCodecBuilder codec = Http2FrameCodecBuilder.forServer().initialSettings(settings);
        if (!rstFloodGuard) {
            codec.decoderEnforceMaxRstFramesPerWindow(0, 0);
        }
        codec.frameLogger(new FrameRecorder(System.getenv("H2_DEBUG") != null
                ? io.netty.handler.logging.LogLevel.INFO : io.netty.handler.logging.LogLevel.TRACE));
        ch.pipeline().addLast(codec.build());
        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel s) {
                s.config().setAutoRead(false);
                s.pipeline().addLast(new Stream(connection, goAwayLast));
            }
        }));
    }

    /** Netty's frame logger (logging only with H2_DEBUG), recording the frames the tests look at. */
    private final class FrameRecorder extends Http2FrameLogger {
        FrameRecorder(io.netty.handler.logging.LogLevel level) {
            super(level, "server-" + name);
        }

        @Override
        public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
            if (direction == Direction.INBOUND) {
                resetFramesRead.add(errorCode);
            }
            super.logRstStream(direction, ctx, streamId, errorCode);
        }

        @Override
        public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode,
                              ByteBuf debugData) {
            if (direction == Direction.OUTBOUND) {
                goAwaysSent.add(errorCode);
            }
            super.logGoAway(direction, ctx, lastStreamId, errorCode, debugData);
        }
    }

    private static SslContext tls(TestCertificates.Issued cert) {
        try {
            return SslContextBuilder.forServer(cert.key(), cert.certificate(), cert.ca())
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2))
                    .build();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    String address() {
        return "127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Lets every stalled upload read on. */
    void releaseUploads() {
        uploadsReleased = true;
        for (Channel c : stalledUploads) {
            c.eventLoop().execute(c::read);
        }
    }

    /** Ends every early answer: trailers, and once they are out RST_STREAM NO_ERROR (the upload is not wanted). */
    void finishEarlyAnswers() {
        for (Stream s : earlyAnswers) {
            Channel c = s.channel;
            c.eventLoop().execute(() -> {
                s.earlyEnded = true;
                c.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true))
                        .addListener(f -> {
                            if (f.isSuccess()) {
                                c.writeAndFlush(new DefaultHttp2ResetFrame(0))
                                        .addListener(r -> earlyAnswersEnded.incrementAndGet());
                            }
                        });
            });
        }
    }

    /** The trailers of the {@code /big-trailers/N} responses whose body is out. */
    void releaseTrailers() {
        for (ChannelHandlerContext ctx : heldTrailers) {
            heldTrailers.remove(ctx);
            ctx.executor().execute(() -> ctx.writeAndFlush(new DefaultHttp2HeadersFrame(
                    new DefaultHttp2Headers().set("grpc-status", "0"), true)).addListener(f -> {
                        if (f.isSuccess()) {
                            trailersWritten.incrementAndGet();
                        }
                    }));
        }
    }

    long sent(String path) {
        AtomicLong n = sent.get(path);
        return n == null ? 0 : n.get();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** One stream, on its child channel (autoRead off: read one frame batch at a time). */
    private final class Stream extends ChannelInboundHandlerAdapter {
        private final int connection;
        /** The connection's GOAWAY last-stream-id once sent, shared by its streams (all on its loop). */
        private final int[] goAwayLast;
        private String path;
        private long bodyBytes;
        private boolean stallUpload;
        private boolean answered;
        private AtomicLong bigSent;
        private long bigLeft;
        /** {@code /early-answer/N}: at most N bytes, never more than the window (nothing left pending). */
        private boolean early;
        private boolean earlyEnded;
        /** {@code /big-trailers/N}: the big body, then trailers (grpc-status 0) ending the stream. */
        private boolean trailers;
        private Channel channel;

        Stream(int connection, int[] goAwayLast) {
            this.connection = connection;
            this.goAwayLast = goAwayLast;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
            ctx.read();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h && path == null) {
                    head(ctx, h);
                } else if (msg instanceof Http2DataFrame d) {
                    bodyBytes += d.content().readableBytes();
                    uploadConsumed.addAndGet(d.content().readableBytes());
                    if (d.isEndStream()) {
                        answer(ctx);
                    }
                } else if (msg instanceof Http2HeadersFrame h && h.isEndStream()) {
                    answer(ctx); // request trailers
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!stallUpload || uploadsReleased) {
                ctx.read();
            } else {
                stalledUploads.add(ctx.channel());
            }
        }

        private void head(ChannelHandlerContext ctx, Http2HeadersFrame h) {
            Http2Headers hs = h.headers();
            path = String.valueOf(hs.path());
            Http2StreamChannel ch = (Http2StreamChannel) ctx.channel();
            int id = ch.stream().id();
            int every = goAwayEvery;
            if (goAwayLast[0] >= 0 && id > goAwayLast[0]) {
                refused.incrementAndGet(); // not processed: the client was told so
                answered = true;
                return;
            }
            if (every > 0 && (id + 1) / 2 % every == 0) {
                // Refuse this stream and any later one: GOAWAY with the one before it as the last processed.
                // Written as raw bytes: Netty's own GOAWAY handling on the server breaks the connection when
                // DATA for a refused stream follows (seen with 4.2.18), which is not what is under test here.
                refused.incrementAndGet();
                goAwayLast[0] = id - 2;
                ByteBuf frame = ctx.alloc().buffer(17).writeMedium(8).writeByte(7).writeByte(0).writeInt(0)
                        .writeInt(id - 2).writeInt(0);
                ch.parent().pipeline().context(Http2FrameCodec.class).writeAndFlush(frame);
                answered = true;
                return;
            }
            requests.add(new Request(String.valueOf(hs.method()), path, hs.authority() == null ? null
                    : hs.authority().toString(), String.valueOf(hs.scheme()), hs, connection, id));
            stallUpload = path.equals("/stall-upload");
            if (path.startsWith("/early-reset/")) {
                answered = true;
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Long.parseLong(path.substring(13))));
                return;
            }
            if (h.isEndStream() || path.startsWith("/early-answer/")) {
                answer(ctx); // an early answer does not wait for the upload
            }
        }

        private void answer(ChannelHandlerContext ctx) {
            if (answered) {
                return;
            }
            answered = true;
            if (path.equals("/hold")) {
                return;
            }
            Http2Headers head = new DefaultHttp2Headers().status("200");
            if (path.startsWith("/big/") || path.startsWith("/early-answer/") || path.startsWith("/big-trailers/")) {
                trailers = path.startsWith("/big-trailers/");
                bigLeft = Long.parseLong(path.substring(path.lastIndexOf('/') + 1));
                bigSent = sent.computeIfAbsent(path, p -> new AtomicLong());
                early = path.startsWith("/early-answer/");
                if (early) {
                    earlyAnswers.add(this); // its trailers and reset wait for finishEarlyAnswers
                } else {
                    head.setLong("content-length", bigLeft);
                }
                ctx.write(new DefaultHttp2HeadersFrame(head));
                writeBig(ctx);
                return;
            }
            if (path.equals("/bad-status")) {
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("2x0"), true));
                return;
            }
            if (path.equals("/trailers")) {
                head.set("trailer", "grpc-status, x-trailer");
                ctx.write(new DefaultHttp2HeadersFrame(head));
                ctx.write(new DefaultHttp2DataFrame(text(ctx, "ok")));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0")
                        .set("x-trailer", "yes"), true));
                return;
            }
            if (path.equals("/interim")) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("103")
                        .set("link", "</style.css>; rel=preload")));
                ctx.write(new DefaultHttp2HeadersFrame(head));
                ctx.writeAndFlush(new DefaultHttp2DataFrame(text(ctx, "after 103"), true));
                return;
            }
            if (path.startsWith("/reset/")) {
                ctx.write(new DefaultHttp2HeadersFrame(head));
                ctx.write(new DefaultHttp2DataFrame(text(ctx, "partial")));
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Long.parseLong(path.substring(7))));
                return;
            }
            String body = name + " " + requests.stream().filter(r -> r.path().equals(path)).findFirst()
                    .map(Request::method).orElse("?") + " " + path + (bodyBytes > 0 ? " " + bodyBytes : "");
            ctx.write(new DefaultHttp2HeadersFrame(head));
            ctx.writeAndFlush(new DefaultHttp2DataFrame(text(ctx, body), true));
        }

        private ByteBuf text(ChannelHandlerContext ctx, String s) {
            return ByteBufUtil.writeUtf8(ctx.alloc(), s);
        }

        /** Writes the big body only while the stream is writable: as fast as Sluice's window lets it. */
        private void writeBig(ChannelHandlerContext ctx) {
            int room = early ? window(ctx) : Integer.MAX_VALUE;
            while (bigLeft > 0 && ctx.channel().isWritable() && !earlyEnded && room > 0) {
                int n = (int) Math.min(Math.min(16 * 1024, bigLeft), room);
                room -= n;
                bigLeft -= n;
                bigSent.addAndGet(n);
                ByteBuf b = ctx.alloc().buffer(n).writeZero(n);
                ChannelFuture f = ctx.write(new DefaultHttp2DataFrame(b, bigLeft == 0 && !early && !trailers));
                if (bigLeft == 0 && trailers) {
                    f.addListener(done -> {
                        if (done.isSuccess()) {
                            heldTrailers.add(ctx);
                            bodiesWritten.incrementAndGet();
                        }
                    });
                }
            }
            ctx.flush();
        }

        /** What the peer's windows let the stream send now (all written before went out: never past the window). */
        private int window(ChannelHandlerContext ctx) {
            Http2StreamChannel ch = (Http2StreamChannel) ctx.channel();
            io.netty.handler.codec.http2.Http2Connection c = ch.parent().pipeline().get(Http2FrameCodec.class)
                    .connection();
            io.netty.handler.codec.http2.Http2Stream st = c.stream(ch.stream().id());
            return st == null ? 0 : Math.min(c.remote().flowController().windowSize(st),
                    c.remote().flowController().windowSize(c.connectionStream()));
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (bigSent != null && ctx.channel().isWritable()) {
                writeBig(ctx);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame r) {
                resetsReceived.add(r.errorCode());
            }
            ReferenceCountUtil.release(evt);
        }
    }

}
