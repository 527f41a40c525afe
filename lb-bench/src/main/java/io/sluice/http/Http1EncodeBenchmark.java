package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
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
 * The two HTTP/1.1 encoders of {@code http_small}'s path alone, on one thread, with the direct way
 * ({@link DirectHeads}) on or off: a client's plain request (the head h2load sends, as the client connection's
 * decoder reads it, with the fields Sluice adds) and its end through the server connection's
 * {@link BackendCodec.RequestEncoder}; a server's plain 64-byte response ({@link PlainResponse}, as the server
 * connection's decoder reads it) through the client connection's {@link HttpFrontCodecs.ResponseEncoder}. Written
 * as the proxy writes them (void promises), then flushed into an {@link EmbeddedChannel} and released. Prints the
 * thread's CPU time per operation after each iteration ({@code cpu ns/op}), steadier than the wall time on a busy
 * machine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Http1EncodeBenchmark {
    private static final HttpDecoderConfig CONFIG = HttpFrontCodecs.strict(new HttpDecoderConfig());
    private static final String REQUEST = "GET /64 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: h2load nghttp2/1.52.0\r\n"
            + "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\n\r\n";
    private static final String RESPONSE = "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: 64\r\n\r\n" + "x".repeat(64);

    @Param({"true", "false"})
    public boolean direct;

    private PlainRequest request;
    private PlainResponse response;
    private EmbeddedChannel toServer;
    private EmbeddedChannel toClient;
    private ChannelHandlerContext serverCtx;
    private ChannelHandlerContext clientCtx;
    private BackendCodec.RequestEncoder requestEncoder;
    private HttpFrontCodecs.ResponseEncoder responseEncoder;
    private final ArrayDeque<HttpMethod> sent = new ArrayDeque<>();
    private final CpuPerOp cpu = new CpuPerOp();

    @Setup
    public void setUp() {
        EmbeddedChannel in = new EmbeddedChannel(new HttpFrontCodecs.RequestDecoder(CONFIG.clone(),
                new HttpFrontCodecs.ResponseEncoder()));
        in.writeInbound(Unpooled.copiedBuffer(REQUEST, StandardCharsets.ISO_8859_1));
        request = (PlainRequest) in.readInbound();
        in.finishAndReleaseAll();
        HeaderPolicy.removeHopByHop(request.headers());
        request.fields().addOwn(HeaderPolicy.X_FORWARDED_FOR, "127.0.0.1");
        request.fields().addOwn(HeaderPolicy.X_FORWARDED_PROTO, "http");
        request.fields().addOwn(HeaderPolicy.X_REQUEST_ID, RequestId.random());
        request.headers().add("via", "1.1 sluice");

        EmbeddedChannel server = new EmbeddedChannel(new BackendCodec.ResponseDecoder(CONFIG.clone(),
                new ArrayDeque<>(java.util.List.of(HttpMethod.GET))));
        server.writeInbound(Unpooled.copiedBuffer(RESPONSE, StandardCharsets.ISO_8859_1));
        response = (PlainResponse) server.readInbound();
        server.finishAndReleaseAll();
        HeaderPolicy.removeHopByHop(response.headers());

        requestEncoder = new BackendCodec.RequestEncoder(sent, direct);
        toServer = new EmbeddedChannel(requestEncoder);
        toServer.config().setAllocator(PooledByteBufAllocator.DEFAULT); // Sluice's (Netty 4.2's default is adaptive)
        serverCtx = toServer.pipeline().context(requestEncoder);
        responseEncoder = new HttpFrontCodecs.ResponseEncoder(direct);
        toClient = new EmbeddedChannel(responseEncoder);
        toClient.config().setAllocator(PooledByteBufAllocator.DEFAULT);
        clientCtx = toClient.pipeline().context(responseEncoder);
    }

    @Setup(Level.Iteration)
    public void iterationStart() {
        cpu.start();
    }

    @TearDown(Level.Iteration)
    public void iterationEnd() {
        cpu.print();
    }

    @TearDown
    public void tearDown() {
        toServer.finishAndReleaseAll();
        toClient.finishAndReleaseAll();
        response.release();
    }

    @Benchmark
    public int request() throws Exception {
        requestEncoder.write(serverCtx, request, toServer.voidPromise());
        requestEncoder.write(serverCtx, LastHttpContent.EMPTY_LAST_CONTENT, toServer.voidPromise());
        sent.clear();
        cpu.op();
        return drain(toServer);
    }

    @Benchmark
    public int response() throws Exception {
        // Netty's encoder reads the shared body (its copy moves the reader index): every op encodes it whole.
        response.content().readerIndex(0);
        responseEncoder.requested(HttpMethod.GET);
        responseEncoder.write(clientCtx, response.retain(), toClient.voidPromise());
        cpu.op();
        return drain(toClient);
    }

    private static int drain(EmbeddedChannel ch) {
        ch.flush();
        int n = 0;
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            n += b.readableBytes();
            b.release();
        }
        return n;
    }
}
