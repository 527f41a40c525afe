package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpRequest;
import io.sluice.config.HttpConfig;
import java.nio.charset.StandardCharsets;
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
 * What the proxy does with the heads of one {@code http_small} request, without sockets or pipelines, on one
 * thread: wrk's request head read by the client connection's fast parser, checked, read into a
 * {@link ClientRequest}, rewritten for the server and spelled as the server connection's encoder spells it; NGINX's
 * 64-byte response read by the server connection's fast parser, rewritten for the client and spelled likewise.
 * Prints the thread's CPU time per operation after each iteration ({@code cpu ns/op}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class Http1HeadPathBenchmark {
    private static final String REQUEST = "GET /64 HTTP/1.1\r\nHost: 127.0.0.1:19401\r\n\r\n";
    private static final String RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Dec 2026 00:13:07 GMT\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 64\r\n"
            + "Last-Modified: Sat, 05 Dec 2026 21:17:00 GMT\r\nConnection: keep-alive\r\nETag: \"6939d5ac-40\"\r\n"
            + "Accept-Ranges: bytes\r\n\r\n" + "x".repeat(64);

    private final RequestHeadParser requests = new RequestHeadParser(8192, 16384);
    private final ResponseHeadParser responses = new ResponseHeadParser(8192, 65536);
    private ByteBuf requestBytes;
    private ByteBuf responseBytes;
    private ClientRequest client;
    private final CpuPerOp cpu = new CpuPerOp();

    @Setup
    public void setUp() {
        requestBytes = Unpooled.directBuffer().writeBytes(REQUEST.getBytes(StandardCharsets.US_ASCII));
        responseBytes = Unpooled.directBuffer().writeBytes(RESPONSE.getBytes(StandardCharsets.US_ASCII));
        HttpRequest r = requests.parse(requestBytes.readerIndex(0));
        client = ClientRequest.of(r);
        client.finished();
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
        requestBytes.release();
        responseBytes.release();
    }

    @Benchmark
    public int request() {
        HttpRequest r = requests.parse(requestBytes.readerIndex(0));
        if (RequestValidator.check(r, 100) != null) {
            throw new IllegalStateException("refused");
        }
        client.read(r);
        RequestRewrite.toServer(client, null, client.originUri, "127.0.0.1", false, HttpConfig.DEFAULT, false, false);
        HeadBytes out = HeadBytes.start(0);
        ((HeadFields) r.headers()).encode(out);
        client.finished();
        cpu.op();
        return out.length();
    }

    @Benchmark
    public int response() {
        PlainResponse r = responses.parse(responseBytes.readerIndex(0), false);
        ResponseRewrite.finalHead(r, client, false, HttpConfig.DEFAULT, null, null, null);
        HeadBytes out = HeadBytes.start(0);
        r.fields().encode(out);
        r.release();
        cpu.op();
        return out.length();
    }
}
