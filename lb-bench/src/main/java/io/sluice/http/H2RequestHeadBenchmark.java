package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import io.sluice.config.HttpConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The part of {@link io.sluice.bench.H2RequestBenchmark}'s request path that turns an HTTP/2 client's HEADERS into
 * the bytes of the HTTP/1.1 request a server gets, alone and on one thread: the head as Netty's HPACK decoder hands
 * it (values as {@link AsciiString}s; the fields h2load sends), its conversion ({@link Http2RequestHeads}), what
 * the exchange reads of it ({@link ClientRequest}), the rewrite for the server ({@link RequestRewrite}: hop-by-hop
 * fields out, X-Forwarded-*, Via, X-Request-Id in) and the server connection's encoder
 * ({@link BackendCodec.RequestEncoder}, called directly, its context an {@link EmbeddedChannel}'s). Prints the
 * thread's CPU time per operation after each iteration ({@code cpu ns/op}), steadier than the wall time on a busy
 * machine; compare it and {@code -prof gc} B/op between builds.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class H2RequestHeadBenchmark {
    private Http2Headers headers;
    private EmbeddedChannel channel;
    private final ArrayDeque<HttpMethod> sent = new ArrayDeque<>();
    private BackendCodec.RequestEncoder encoder;
    private ChannelHandlerContext ctx;
    private final List<Object> out = new ArrayList<>();
    private final CpuPerOp cpu = new CpuPerOp();

    @Setup
    public void setUp() {
        headers = new DefaultHttp2Headers()
                .method(AsciiString.of("GET"))
                .path(AsciiString.of("/64"))
                .scheme(AsciiString.of("http"))
                .authority(AsciiString.of("127.0.0.1:8080"));
        headers.add(AsciiString.of("accept"), AsciiString.of("*/*"));
        headers.add(AsciiString.of("accept-encoding"), AsciiString.of("gzip, deflate"));
        headers.add(AsciiString.of("user-agent"), AsciiString.of("h2load nghttp2/1.52.0"));
        encoder = new BackendCodec.RequestEncoder(sent);
        channel = new EmbeddedChannel(encoder);
        channel.config().setAllocator(PooledByteBufAllocator.DEFAULT); // Sluice's (Netty 4.2's default is adaptive)
        ctx = channel.pipeline().context(encoder);
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
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int request() throws Exception {
        HttpRequest r = Http2RequestHeads.request(headers, true);
        ClientRequest c = ClientRequest.of(r);
        RequestRewrite.toServer(c, null, c.originUri, "127.0.0.1", false, HttpConfig.DEFAULT, false, false);
        encoder.encode(ctx, r, out);
        encoder.encode(ctx, LastHttpContent.EMPTY_LAST_CONTENT, out);
        sent.clear();
        int n = 0;
        for (int i = 0; i < out.size(); i++) {
            ByteBuf b = (ByteBuf) out.get(i);
            n += b.readableBytes();
            b.release();
        }
        out.clear();
        c.finished(); // as the exchange does at its end
        cpu.op();
        return n;
    }
}
