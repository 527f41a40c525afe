package io.sluice.testing;

import io.grpc.Context;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A grpc-java server on 127.0.0.1 (h2c, or TLS with ALPN h2) serving {@link GrpcEcho} and the standard health
 * service ({@code grpc.health.v1.Health}, through {@link #health()}). It records what it saw: the calls, their
 * {@code te} header, and calls cancelled by the client (a reset stream or a deadline).
 *
 * <p>Unary requests that answer otherwise: {@code "status:CODE:message"} fails the call with that status and no
 * message (a trailers-only response); {@code "hang"} never answers.
 */
public final class GrpcTestServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    public final AtomicInteger calls = new AtomicInteger();
    public final AtomicInteger cancelled = new AtomicInteger();
    /** Every call's method name, in arrival order. */
    public final List<String> methods = new CopyOnWriteArrayList<>();

    /** Plain HTTP/2 (h2c, prior knowledge). */
    public static GrpcTestServer h2c() throws IOException {
        return new GrpcTestServer(null, null);
    }

    /** HTTP/2 over TLS with this certificate chain and PKCS#8 key (PEM files). */
    public static GrpcTestServer tls(Path chain, Path key) throws IOException {
        return new GrpcTestServer(chain, key);
    }

    private GrpcTestServer(Path chain, Path key) throws IOException {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(echo())
                .addService(health.getHealthService())
                .intercept(new io.grpc.ServerInterceptor() {
                    @Override
                    public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                            io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
                        calls.incrementAndGet();
                        methods.add(call.getMethodDescriptor().getBareMethodName());
                        return next.startCall(call, headers);
                    }
                });
        if (chain != null) {
            b.sslContext(GrpcSslContexts.forServer(chain.toFile(), key.toFile()).build());
        }
        server = b.build().start();
    }

    public int port() {
        return server.getPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    /** The standard health service's state: {@code setStatus("", SERVING | NOT_SERVING)}. */
    public HealthStatusManager health() {
        return health;
    }

    private ServerServiceDefinition echo() {
        return ServerServiceDefinition.builder(GrpcEcho.SERVICE)
                .addMethod(GrpcEcho.UNARY, ServerCalls.asyncUnaryCall(this::unary))
                .addMethod(GrpcEcho.SPLIT, ServerCalls.asyncServerStreamingCall((req, out) -> {
                    for (String part : req.split(",")) {
                        if (part.startsWith("status:")) {
                            out.onError(status(part));
                            return;
                        }
                        out.onNext(part);
                    }
                    out.onCompleted();
                }))
                .addMethod(GrpcEcho.JOIN, ServerCalls.asyncClientStreamingCall(out -> new Collect(out)))
                .addMethod(GrpcEcho.CHAT, ServerCalls.asyncBidiStreamingCall(Chat::new))
                .build();
    }

    private void unary(String req, StreamObserver<String> out) {
        if (req.startsWith("status:")) {
            out.onError(status(req));
        } else if (req.equals("hang")) {
            Context.current().addListener(c -> cancelled.incrementAndGet(), Runnable::run);
        } else {
            out.onNext("echo:" + req);
            out.onCompleted();
        }
    }

    /** "status:CODE:message" as the error it names. */
    private static RuntimeException status(String spec) {
        String[] p = spec.split(":", 3);
        return Status.fromCodeValue(Integer.parseInt(p[1])).withDescription(p[2]).asRuntimeException();
    }

    private final class Chat implements StreamObserver<String> {
        private final StreamObserver<String> out;

        Chat(StreamObserver<String> out) {
            this.out = out;
        }

        @Override
        public void onNext(String value) {
            out.onNext("echo:" + value);
        }

        @Override
        public void onError(Throwable t) {
            cancelled.incrementAndGet();
        }

        @Override
        public void onCompleted() {
            out.onCompleted();
        }
    }

    private static final class Collect implements StreamObserver<String> {
        private final StreamObserver<String> out;
        private final StringBuilder joined = new StringBuilder();

        Collect(StreamObserver<String> out) {
            this.out = out;
        }

        @Override
        public void onNext(String value) {
            joined.append(joined.length() == 0 ? "" : ",").append(value);
        }

        @Override
        public void onError(Throwable t) {
        }

        @Override
        public void onCompleted() {
            out.onNext(joined.toString());
            out.onCompleted();
        }
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
