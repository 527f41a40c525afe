package io.sluice.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Connection set-up end to end on loopback: each operation opens a new connection, makes one small exchange and
 * closes it, through Sluice's TCP listener to an echo server ({@code protocol=tcp}) or through its HTTP listener
 * with {@code Connection: close} to an HTTP server ({@code protocol=http}), against the same straight to the
 * server ({@code target=direct}) in the same run.
 *
 * <p>With {@code -prof gc}, {@code gc.alloc.rate.norm} of sluice minus direct is what the proxy allocates per
 * connection for {@code tcp} (the echo server accepts a connection per operation either way). For {@code http}
 * that difference understates it: behind Sluice the server keeps its pooled connection, straight it accepts one
 * per operation. The {@code proxyBytes} counter is therefore measured apart: bytes allocated by Sluice's own
 * threads ({@code sluice-*}) per operation, exact for both; {@code proxyCpuNanos} is their CPU time per operation
 * (kernel time included, so also the loopback work their sends do for the peers: compare it within one run).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ConnectBenchmark {
    private static final byte[] PAYLOAD = new byte[64];
    private static final byte[] REQUEST = ("GET /bench HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);

    @Param({"direct", "sluice"})
    public String target;

    @Param({"tcp", "http"})
    public String protocol;

    private EventLoopGroup serverGroup;
    private Channel server;
    private Sluice sluice;
    private InetSocketAddress address;
    private final byte[] reply = new byte[4096];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Transport transport = Transport.select(TransportKind.AUTO);
        serverGroup = transport.newGroup(1, "bench-server");
        boolean http = protocol.equals("http");
        server = new ServerBootstrap().group(serverGroup).channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (http) {
                            ch.pipeline().addLast(new HttpServerCodec(), new OkHandler());
                        } else {
                            ch.pipeline().addLast(new EchoHandler());
                        }
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        if (target.equals("sluice")) {
            sluice = Sluice.start(ConfigLoader.parse("""
                    runtime: { worker_threads: 1 }
                    admin: { enabled: false }
                    listeners: [ { name: bench, bind: "127.0.0.1:0", protocol: %s, cluster: app } ]
                    clusters: [ { name: app, servers: [ { address: "127.0.0.1:%d" } ] } ]
                    """.formatted(protocol, port)));
            port = sluice.listener("bench").localAddress().getPort();
        }
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /**
     * Bytes allocated and CPU time used by Sluice's threads per operation, over each iteration. JMH sums
     * these counters over the iterations: read the "avg" of their "(min, avg, max)" line.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ProxyAllocation {
        public long proxyBytes;
        public long proxyCpuNanos;
        private long ops;
        private long startBytes;
        private long startCpu;

        @Setup(Level.Iteration)
        public void begin() {
            ops = 0;
            startBytes = ThreadTotals.allocatedBytes("sluice-");
            startCpu = ThreadTotals.cpuNanos("sluice-");
        }

        @TearDown(Level.Iteration)
        public void end() {
            proxyBytes = ops == 0 ? 0 : (ThreadTotals.allocatedBytes("sluice-") - startBytes) / ops;
            proxyCpuNanos = ops == 0 ? 0 : (ThreadTotals.cpuNanos("sluice-") - startCpu) / ops;
        }
    }

    @Benchmark
    public int connect(ProxyAllocation alloc) throws IOException {
        alloc.ops++;
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            s.connect(address, 5000);
            InputStream in = s.getInputStream();
            if (protocol.equals("tcp")) {
                s.getOutputStream().write(PAYLOAD);
                int read = 0;
                while (read < PAYLOAD.length) {
                    int n = in.read(reply, read, PAYLOAD.length - read);
                    if (n < 0) {
                        throw new IOException("closed after " + read + " bytes");
                    }
                    read += n;
                }
                return read;
            }
            s.getOutputStream().write(REQUEST);
            // Connection: close: the response ends with the connection.
            int total = 0;
            int n;
            while ((n = in.read(reply)) >= 0) {
                total += n;
            }
            if (total == 0) {
                throw new IOException("no response");
            }
            return total;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (sluice != null) {
            sluice.close();
        }
        server.close().sync();
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** "ok", keeping the connection unless the request said Connection: close. */
    private static final class OkHandler extends SimpleChannelInboundHandler<HttpObject> {
        private static final byte[] BODY = "ok".getBytes(StandardCharsets.US_ASCII);
        private boolean keepAlive = true;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof HttpRequest r) {
                keepAlive = HttpUtil.isKeepAlive(r);
            }
            if (msg instanceof LastHttpContent) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(BODY));
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
                if (keepAlive) {
                    ctx.writeAndFlush(r);
                } else {
                    ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
