package io.sluice.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.util.ReferenceCountUtil;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The HTTP/2 request path end to end on loopback, as the load comparison's {@code h2_small} and
 * {@code grpc_unary} drive it: {@link #CONNECTIONS} h2c client connections (prior knowledge) each send
 * {@link #STREAMS} requests at once through Sluice; one operation is all of them answered. {@code h2_small} is
 * {@code GET /64} to an HTTP/1.1 Netty server answering 64 B, {@code grpc_unary} a unary gRPC call to
 * {@link GrpcUnaryServer} over h2c (cluster {@code protocol: h2c}); {@code direct} sends the gRPC calls to the
 * server itself.
 *
 * <p>The client and the servers run in this JVM, so {@code -prof gc} counts them too; what Sluice's own event
 * loop allocates per request (the figure to compare between versions) is printed after each iteration as
 * {@code sluice-worker bytes/request}, from the JVM's per-thread allocation counters.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class H2RequestBenchmark {
    static final int CONNECTIONS = 4;
    static final int STREAMS = 32;
    private static final byte[] BODY = new byte[64];
    private static final ByteBuf GRPC_REQUEST = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 0, 7, 0x0a, 5, 'h', 'e', 'l', 'l', 'o'}).asReadOnly());

    @Param({"h2_small", "grpc_unary"})
    public String scenario;

    @Param({"sluice"})
    public String target;

    private EventLoopGroup serverGroup;
    private EventLoopGroup clientGroup;
    private final List<Channel> servers = new ArrayList<>();
    private Sluice sluice;
    private final List<Client> clients = new ArrayList<>();
    private long requests;
    private long allocatedBefore;
    private long cpuBefore;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Transport transport = Transport.select(TransportKind.AUTO);
        int port;
        String cluster;
        if (scenario.equals("grpc_unary")) {
            servers.addAll(GrpcUnaryServer.start(0));
            port = ((InetSocketAddress) servers.get(0).localAddress()).getPort();
            cluster = "protocol: h2c, ";
        } else {
            if (target.equals("direct")) {
                throw new IllegalArgumentException("h2_small has no direct case: its server speaks HTTP/1.1");
            }
            serverGroup = transport.newGroup(1, "bench-http");
            servers.add(new ServerBootstrap().group(serverGroup).channel(transport.serverChannelClass())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpRequestBenchmark.OkHandler(BODY));
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel());
            port = ((InetSocketAddress) servers.get(0).localAddress()).getPort();
            cluster = "";
        }
        if (target.equals("sluice")) {
            sluice = Sluice.start(ConfigLoader.parse("""
                    runtime: { worker_threads: 1 }
                    admin: { enabled: false }
                    listeners: [ { name: bench, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                    clusters: [ { name: app, %sservers: [ { address: "127.0.0.1:%d" } ] } ]
                    """.formatted(cluster, port)));
            port = sluice.listener("bench").localAddress().getPort();
        }
        clientGroup = transport.newGroup(1, "bench-client");
        for (int i = 0; i < CONNECTIONS; i++) {
            Client c = new Client(scenario.equals("grpc_unary"));
            Channel ch = new Bootstrap().group(clientGroup).channel(transport.channelClass())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                    .initialSettings(Http2Settings.defaultSettings().initialWindowSize(1 << 20))
                                    .build(), c);
                        }
                    })
                    .connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)).sync().channel();
            c.ready.get(10, TimeUnit.SECONDS);
            c.channel = ch;
            clients.add(c);
        }
    }

    @Setup(Level.Iteration)
    public void countFrom() {
        requests = 0;
        allocatedBefore = ThreadTotals.allocatedBytes("sluice-worker");
        cpuBefore = ThreadTotals.cpuNanos("sluice-worker");
    }

    /** {@link #CONNECTIONS} x {@link #STREAMS} requests at once, all answered. */
    @Benchmark
    public int requests() throws Exception {
        CountDownLatch done = new CountDownLatch(CONNECTIONS * STREAMS);
        for (Client c : clients) {
            c.channel.eventLoop().execute(() -> c.send(done));
        }
        if (!done.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("requests not answered: " + done.getCount() + " left");
        }
        requests += CONNECTIONS * STREAMS;
        int failed = 0;
        for (Client c : clients) {
            failed += c.failed;
        }
        if (failed > 0) {
            throw new IllegalStateException(failed + " requests failed");
        }
        return (int) done.getCount();
    }

    @TearDown(Level.Iteration)
    public void report() {
        if (sluice != null && requests > 0) {
            System.out.printf("%nsluice-worker bytes/request: %.0f, CPU us/request: %.2f (%d requests)%n",
                    (ThreadTotals.allocatedBytes("sluice-worker") - allocatedBefore) / (double) requests,
                    (ThreadTotals.cpuNanos("sluice-worker") - cpuBefore) / 1000.0 / requests, requests);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        for (Client c : clients) {
            c.channel.close().sync();
        }
        if (sluice != null) {
            sluice.close();
        }
        for (Channel s : servers) {
            s.close().sync();
        }
        clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        if (serverGroup != null) {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** One h2c client connection: opens a batch of streams and counts down as each one ends. */
    private static final class Client extends Http2ChannelDuplexHandler {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final boolean grpc;
        Channel channel;
        ChannelHandlerContext ctx;
        CountDownLatch done;
        int failed;

        Client(boolean grpc) {
            this.grpc = grpc;
        }

        @Override
        public void handlerAdded0(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void send(CountDownLatch done) {
            this.done = done;
            for (int i = 0; i < STREAMS; i++) {
                Http2FrameStream s = newStream();
                Http2Headers h = new DefaultHttp2Headers().scheme("http").authority("bench");
                if (grpc) {
                    h.method("POST").path("/echo.Echo/Unary").set("content-type", "application/grpc")
                            .set("te", "trailers");
                    ctx.write(new DefaultHttp2HeadersFrame(h).stream(s));
                    ctx.write(new DefaultHttp2DataFrame(GRPC_REQUEST.duplicate(), true).stream(s));
                } else {
                    h.method("GET").path("/64");
                    ctx.write(new DefaultHttp2HeadersFrame(h, true).stream(s));
                }
            }
            ctx.flush();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2SettingsFrame) {
                    ready.complete(null);
                } else if (msg instanceof Http2HeadersFrame h) {
                    CharSequence status = h.headers().status();
                    if (status != null && !status.toString().equals("200")) {
                        failed++;
                    }
                    if (h.isEndStream()) {
                        done.countDown();
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    if (d.initialFlowControlledBytes() > 0) {
                        ctx.write(new DefaultHttp2WindowUpdateFrame(d.initialFlowControlledBytes()).stream(d.stream()));
                    }
                    if (d.isEndStream()) {
                        done.countDown();
                    }
                } else if (msg instanceof Http2ResetFrame) {
                    failed++;
                    done.countDown();
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ready.completeExceptionally(cause);
            ctx.close();
        }
    }
}
