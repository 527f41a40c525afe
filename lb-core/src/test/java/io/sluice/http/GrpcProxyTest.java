package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.sluice.Sluice;
import io.sluice.testing.GrpcClients;
import io.sluice.testing.GrpcEcho;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * gRPC semantics that hold whatever the server speaks: a grpc-java client (and a raw HTTP/2 client where the
 * exact frames matter) through Sluice to HTTP/1.1 servers that answer like gRPC servers, fail or stall.
 */
class GrpcProxyTest {
    @TempDir
    Path dir;

    static String config(String servers, String listenerExtra) {
        return config(servers, listenerExtra, "");
    }

    /** {@code clusterExtra}: more of the cluster's keys, in flow style after a comma (", protocol: h2c"). */
    static String config(String servers, String listenerExtra, String clusterExtra) {
        return """
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                %s
                clusters:
                  - { name: app, algorithm: round_robin, servers: [ %s ]%s }
                """.formatted(listenerExtra, servers, clusterExtra);
    }

    static String servers(String... addresses) {
        StringBuilder b = new StringBuilder();
        for (String a : addresses) {
            b.append(b.length() == 0 ? "" : ", ").append("{ address: \"").append(a).append("\" }");
        }
        return b.toString();
    }

    /** The status a unary call of {@link GrpcEcho#UNARY} fails with; the call must fail. */
    static Status unaryFailure(ManagedChannel ch, String request, long deadlineMillis) {
        try {
            String answer = ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY,
                    CallOptions.DEFAULT.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS), request);
            throw new AssertionError("expected the call to fail, got " + answer);
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    static double grpcCount(Sluice s, String code) throws Exception {
        return sample(Proxies.admin(s, "/metrics").body(),
                "sluice_grpc_requests_total{cluster=\"app\",grpc_code=\"" + code + "\"}");
    }

    /** One gRPC message frame: uncompressed, 4-byte length, the UTF-8 text. */
    static byte[] grpcFrame(String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[5 + m.length];
        f[1] = (byte) (m.length >>> 24);
        f[2] = (byte) (m.length >>> 16);
        f[3] = (byte) (m.length >>> 8);
        f[4] = (byte) m.length;
        System.arraycopy(m, 0, f, 5, m.length);
        return f;
    }

    /** A gRPC answer over HTTP/1.1: the message, then the status in chunked trailers. */
    static void answerWithTrailers(OutputStream out, String message, int status, String text) throws IOException {
        byte[] frame = message == null ? new byte[0] : grpcFrame(message);
        StringBuilder head = new StringBuilder("HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
                + "transfer-encoding: chunked\r\n\r\n");
        out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
        if (frame.length > 0) {
            out.write((Integer.toHexString(frame.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(frame);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(("0\r\ngrpc-status: " + status + "\r\n" + (text == null ? "" : "grpc-message: " + text + "\r\n")
                + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One decoder per connection: HPACK state carries over from one header block to the next. */
    static Http2Headers decode(DefaultHttp2HeadersDecoder hpack, RawH2.Frame headers) throws Exception {
        ByteBuf block = Unpooled.wrappedBuffer(headers.payload());
        try {
            return hpack.decodeHeaders(headers.stream(), block);
        } finally {
            block.release();
        }
    }

    static String[] grpcRequest(String path, String... extra) {
        String[] base = {":method", "POST", ":scheme", "http", ":path", path, ":authority", "grpc.test",
                "content-type", "application/grpc", "te", "trailers"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void noServerIsUnavailableAsATrailersOnlyGrpcError() throws Exception {
        String closed = "127.0.0.1:" + Proxies.freePort();
        try (Sluice s = Proxies.start(config(servers(closed), ""))) {
            int port = Proxies.port(s, "web");
            ManagedChannel ch = GrpcClients.h2c(port);
            try {
                Status st = unaryFailure(ch, "x", 10_000);
                assertThat(st.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                assertThat(st.getDescription()).isEqualTo("could not connect to a server");
            } finally {
                GrpcClients.close(ch);
            }
            // On the wire: one HEADERS frame that ends the stream, HTTP 200 and the gRPC status in it.
            DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
            try (RawH2 raw = new RawH2(port)) {
                raw.headers(1, true, grpcRequest("/sluice.test.Echo/Unary"));
                RawH2.Frame f = raw.await(RawH2.HEADERS, 1);
                assertThat(f.flags() & RawH2.END_STREAM).isEqualTo(RawH2.END_STREAM);
                Http2Headers h = decode(hpack, f);
                assertThat(h.status().toString()).isEqualTo("200");
                assertThat(h.get("content-type").toString()).isEqualTo("application/grpc");
                assertThat(h.get("grpc-status").toString()).isEqualTo("14");
                assertThat(h.get("grpc-message").toString()).isEqualTo("could not connect to a server");
            }
            assertThat(grpcCount(s, "UNAVAILABLE")).isEqualTo(2);
            assertThat(grpcCount(s, "OK")).isZero();
        }
    }

    @Test
    void overTlsTheErrorIsAGrpcErrorToo() throws Exception {
        TestCertificates.Ca ca = TestCertificates.newCa("gRPC Test CA");
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        Path[] cert = ca.server("localhost").writePem(dir, "localhost");
        String closed = "127.0.0.1:" + Proxies.freePort();
        try (Sluice s = Proxies.start(config(servers(closed), """
                    tls: { certificates: [ { cert: "%s", key: "%s" } ] }
                """.formatted(cert[0], cert[1])))) {
            ManagedChannel ch = GrpcClients.tls(Proxies.port(s, "web"), caFile);
            try {
                assertThat(unaryFailure(ch, "x", 10_000).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                GrpcClients.close(ch);
            }
        }
    }

    @Test
    void grpcTimeoutIsTheDeadlineAndCancelsTheServerRequest() throws Exception {
        AtomicInteger hungUp = new AtomicInteger();
        HttpBackend.Handler stall = (req, out, sock) -> {
            // Never answers; learns that Sluice gave up when its connection closes.
            while (sock.getInputStream().read() >= 0) {
                // the request's body, if any
            }
            hungUp.incrementAndGet();
            sock.close();
        };
        try (HttpBackend b = new HttpBackend("stall", stall);
             Sluice s = Proxies.start(config(servers(b.address()), ""))) {
            int port = Proxies.port(s, "web");
            DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);
            try (RawH2 raw = new RawH2(port)) {
                raw.headers(1, true, grpcRequest("/sluice.test.Echo/Unary", "grpc-timeout", "200m"));
                RawH2.Frame f = raw.await(RawH2.HEADERS, 1);
                assertThat(f.flags() & RawH2.END_STREAM).isEqualTo(RawH2.END_STREAM);
                Http2Headers h = decode(hpack, f);
                assertThat(h.get("grpc-status").toString()).isEqualTo("4");
                assertThat(h.get("grpc-message").toString()).contains("deadline");

                raw.headers(3, true, grpcRequest("/sluice.test.Echo/Unary", "grpc-timeout", "2x"));
                assertThat(decode(hpack, raw.await(RawH2.HEADERS, 3)).get("grpc-status").toString()).isEqualTo("3");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> hungUp.get() == 1);
            assertThat(b.requests).hasSize(1);

            ManagedChannel ch = GrpcClients.h2c(port);
            try {
                assertThat(unaryFailure(ch, "x", 300).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
            } finally {
                GrpcClients.close(ch);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> hungUp.get() == 2);
            assertThat(grpcCount(s, "DEADLINE_EXCEEDED")).isGreaterThanOrEqualTo(1);
            assertThat(grpcCount(s, "INVALID_ARGUMENT")).isEqualTo(1);
            assertThat(sample(Proxies.admin(s, "/metrics").body(),
                    "sluice_http_errors_total{listener=\"web\",reason=\"timeout\"}")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void trailersAndTrailersOnlyResponsesReachTheClientAndTeTrailersTheServer() throws Exception {
        HttpBackend.Handler grpcOverHttp11 = (req, out, sock) -> {
            String body = new String(req.readBody(), StandardCharsets.UTF_8);
            String message = body.length() > 5 ? body.substring(5) : "";
            switch (message) {
                case "denied" -> HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\ncontent-type: application/grpc\r\n"
                        + "grpc-status: 7\r\ngrpc-message: no%20way\r\ncontent-length: 0\r\n\r\n");
                case "missing" -> answerWithTrailers(out, null, 5, "not here");
                default -> answerWithTrailers(out, "echo:" + message, 0, null);
            }
        };
        try (HttpBackend b = new HttpBackend("grpc1", grpcOverHttp11);
             Sluice s = Proxies.start(config(servers(b.address()), ""))) {
            ManagedChannel ch = GrpcClients.h2c(Proxies.port(s, "web"));
            try {
                CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
                assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY, opts, "hello")).isEqualTo("echo:hello");
                assertThat(b.last().header("te")).isEqualTo("trailers");
                assertThat(b.last().header("content-type")).isEqualTo("application/grpc");

                Status denied = unaryFailure(ch, "denied", 10_000);
                assertThat(denied.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(denied.getDescription()).isEqualTo("no way");
                Status missing = unaryFailure(ch, "missing", 10_000);
                assertThat(missing.getCode()).isEqualTo(Status.Code.NOT_FOUND);
                assertThat(missing.getDescription()).isEqualTo("not here");
            } finally {
                GrpcClients.close(ch);
            }
            assertThat(grpcCount(s, "OK")).isEqualTo(1);
            assertThat(grpcCount(s, "PERMISSION_DENIED")).isEqualTo(1);
            assertThat(grpcCount(s, "NOT_FOUND")).isEqualTo(1);
        }
    }

    @Test
    void aGrpcCallIsNotSentAgainAfterTheServerDroppedIt() throws Exception {
        HttpBackend.Handler drop = (req, out, sock) -> sock.close();
        try (HttpBackend a = new HttpBackend("a", drop);
             HttpBackend b = new HttpBackend("b", drop);
             Sluice s = Proxies.start(config(servers(a.address(), b.address()), """
                        http: { retries: 2 }
                    """))) {
            ManagedChannel ch = GrpcClients.h2c(Proxies.port(s, "web"));
            try {
                assertThat(unaryFailure(ch, "x", 10_000).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            } finally {
                GrpcClients.close(ch);
            }
            // The server may have acted on it: gRPC allows a transparent retry only before any byte went out.
            assertThat(a.requests.size() + b.requests.size()).isEqualTo(1);
            assertThat(grpcCount(s, "UNAVAILABLE")).isEqualTo(1);
        }
    }
}
