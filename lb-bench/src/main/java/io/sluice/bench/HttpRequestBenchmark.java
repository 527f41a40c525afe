package io.sluice.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
 * The HTTP request path end to end on loopback: one keep-alive client connection sends GETs through Sluice's
 * HTTP listener to a Netty HTTP server, against the same requests straight to the server ({@code target=direct})
 * in the same run. With {@code -prof gc}, {@code gc.alloc.rate.norm} of the sluice case minus the direct case
 * is what the proxy allocates per request (the proxy runs in the benchmark JVM).
 *
 * <p>That difference also holds what the benchmark's server allocates to decode the headers Sluice adds, so two
 * counters are measured apart, per request: {@code proxyBytes}, bytes allocated by Sluice's own threads
 * ({@code sluice-*}), and {@code serverBytes}, by the benchmark server's ({@code bench-http*}). JMH sums
 * event counters over the measurement iterations: divide them by {@code Cnt}; each iteration also prints its own.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HttpRequestBenchmark {
    private static final byte[] REQUEST = "GET /bench HTTP/1.1\r\nHost: bench\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    @Param({"direct", "sluice"})
    public String target;

    /**
     * Sluice's and the server's transport ({@code runtime.transport}). io_uring (auto) makes an op object per
     * submission, and how many a request takes varies with the machine's load; {@code -p transport=epoll}
     * leaves the proxy's own allocation per request, which does not.
     */
    @Param({"auto"})
    public String transport;

    private EventLoopGroup serverGroup;
    private Channel server;
    private Sluice sluice;
    private Socket client;
    private OutputStream out;
    private InputStream in;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Transport io = Transport.select(TransportKind.valueOf(transport.toUpperCase(java.util.Locale.ROOT)));
        serverGroup = io.newGroup(1, "bench-http");
        server = new ServerBootstrap().group(serverGroup).channel(io.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new OkHandler());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        if (target.equals("sluice")) {
            sluice = Sluice.start(ConfigLoader.parse("""
                    runtime: { worker_threads: 1, transport: %s }
                    admin: { enabled: false }
                    listeners: [ { name: bench, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                    clusters: [ { name: app, servers: [ { address: "127.0.0.1:%d" } ] } ]
                    """.formatted(transport, port)));
            port = sluice.listener("bench").localAddress().getPort();
        }
        client = new Socket();
        client.setTcpNoDelay(true);
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        client.setSoTimeout(30_000);
        out = client.getOutputStream();
        in = new BufferedInputStream(client.getInputStream(), 8192);
    }

    /** Bytes allocated per request by Sluice's threads and by the benchmark server's (JMH divides by ops). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class ThreadAllocation {
        public long proxyBytes;
        public long serverBytes;
        private long ops;
        private long proxyStart;
        private long serverStart;

        @Setup(Level.Iteration)
        public void begin() {
            ops = 0;
            proxyStart = ThreadTotals.allocatedBytes("sluice-");
            serverStart = ThreadTotals.allocatedBytes("bench-http");
        }

        @TearDown(Level.Iteration)
        public void end() {
            proxyBytes = ops == 0 ? 0 : (ThreadTotals.allocatedBytes("sluice-") - proxyStart) / ops;
            serverBytes = ops == 0 ? 0 : (ThreadTotals.allocatedBytes("bench-http") - serverStart) / ops;
            System.out.printf("[proxy threads %d B/request, server threads %d B/request] ", proxyBytes, serverBytes);
        }
    }

    /** One request and its whole response; returns the last body byte so nothing is optimised away. */
    @Benchmark
    public int request(ThreadAllocation alloc) throws IOException {
        alloc.ops++;
        out.write(REQUEST);
        out.flush();
        int length = 0;
        int lineStart = 0;
        int pos = 0;
        int c;
        // Read the head up to the empty line, picking out Content-Length on the way.
        StringBuilder line = new StringBuilder(64);
        while ((c = in.read()) != -1) {
            pos++;
            if (c == '\n') {
                if (line.length() <= 1) {
                    break;
                }
                String l = line.toString();
                if (l.regionMatches(true, 0, "content-length:", 0, 15)) {
                    length = Integer.parseInt(l.substring(15).trim());
                }
                line.setLength(0);
                lineStart = pos;
            } else {
                line.append((char) c);
            }
        }
        int last = 0;
        for (int i = 0; i < length; i++) {
            last = in.read();
        }
        if (last < 0 || lineStart == 0) {
            throw new IOException("connection closed mid-response");
        }
        return last;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        if (sluice != null) {
            sluice.close();
        }
        server.close().sync();
        serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Answers every request with 200 and a fixed body (H2RequestBenchmark's HTTP/1.1 server too). */
    static final class OkHandler extends SimpleChannelInboundHandler<HttpObject> {
        private final byte[] body;

        OkHandler() {
            this("ok".getBytes(StandardCharsets.US_ASCII));
        }

        OkHandler(byte[] body) {
            this.body = body;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (msg instanceof LastHttpContent) {
                FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        Unpooled.wrappedBuffer(body));
                r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
                ctx.writeAndFlush(r);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
