package io.sluice.http;

import static io.sluice.http.GrpcProxyTest.grpcCount;
import static io.sluice.http.GrpcProxyTest.unaryFailure;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.sluice.Sluice;
import io.sluice.testing.GrpcClients;
import io.sluice.testing.GrpcEcho;
import io.sluice.testing.GrpcTestServer;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * gRPC end to end: a grpc-java client, Sluice, grpc-java servers ({@link GrpcTestServer}) in a cluster spoken to
 * over HTTP/2; the client comes over h2c (prior knowledge) or TLS (ALPN h2).
 */
class GrpcEndToEndTest {
    private static final TestCertificates.Ca CA = TestCertificates.newCa("gRPC E2E CA");
    private static final CallOptions TEN_SECONDS = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);

    @TempDir
    Path dir;
    @AutoClose
    final Resources resources = new Resources();

    /** Sluice in front of these servers ({@code clusterExtra}: the cluster's protocol and TLS), and a client. */
    private ManagedChannel client(boolean tlsListener, String clusterExtra, GrpcTestServer... servers)
            throws Exception {
        String listenerTls = "";
        if (tlsListener) {
            Path[] cert = CA.server("localhost").writePem(dir, "front");
            listenerTls = "    tls: { certificates: [ { cert: \"%s\", key: \"%s\" } ] }".formatted(cert[0], cert[1]);
        }
        String[] addresses = java.util.Arrays.stream(servers).map(GrpcTestServer::address).toArray(String[]::new);
        sluice = resources.keep(Proxies.start(GrpcProxyTest.config(GrpcProxyTest.servers(addresses), listenerTls,
                clusterExtra)));
        int port = Proxies.port(sluice, "web");
        ManagedChannel ch = tlsListener ? GrpcClients.tls(port, CA.writePem(dir.resolve("ca.pem")))
                : GrpcClients.h2c(port);
        resources.keep(() -> GrpcClients.close(ch));
        return ch;
    }

    private Sluice sluice;

    private GrpcTestServer h2cServer() throws Exception {
        return resources.keep(GrpcTestServer.h2c());
    }

    private static final String H2C = ", protocol: h2c";

    @ParameterizedTest(name = "tls listener: {0}")
    @ValueSource(booleans = {false, true})
    void allFourCallKindsGoThrough(boolean tls) throws Exception {
        GrpcTestServer a = h2cServer();
        ManagedChannel ch = client(tls, H2C, a);

        assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY, TEN_SECONDS, "hi")).isEqualTo("echo:hi");

        String thousand = IntStream.range(0, 1000).mapToObj(Integer::toString).collect(Collectors.joining(","));
        List<String> parts = new ArrayList<>();
        Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, GrpcEcho.SPLIT, TEN_SECONDS, thousand);
        it.forEachRemaining(parts::add);
        assertThat(parts).hasSize(1000).startsWith("0", "1").endsWith("999");

        Answers joined = new Answers();
        StreamObserver<String> up = ClientCalls.asyncClientStreamingCall(ch.newCall(GrpcEcho.JOIN, TEN_SECONDS),
                joined);
        for (int i = 0; i < 100; i++) {
            up.onNext("m" + i);
        }
        up.onCompleted();
        assertThat(joined.done.get(10, TimeUnit.SECONDS)).isNull();
        assertThat(joined.messages.poll()).startsWith("m0,m1,").endsWith(",m99");

        Answers chat = new Answers();
        StreamObserver<String> talk = ClientCalls.asyncBidiStreamingCall(ch.newCall(GrpcEcho.CHAT, TEN_SECONDS),
                chat);
        for (int i = 0; i < 5; i++) {
            // each answer comes before the next question: the stream is really interactive through Sluice
            talk.onNext("q" + i);
            assertThat(chat.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("echo:q" + i);
        }
        talk.onCompleted();
        assertThat(chat.done.get(10, TimeUnit.SECONDS)).isNull();

        assertThat(a.methods).containsExactly("Unary", "Split", "Join", "Chat");
        assertThat(grpcCount(sluice, "OK")).isEqualTo(4);
    }

    @ParameterizedTest(name = "tls listener: {0}")
    @ValueSource(booleans = {false, true})
    void errorStatusesArriveIntactTrailersOnlyAndMidStream(boolean tls) throws Exception {
        GrpcTestServer a = h2cServer();
        ManagedChannel ch = client(tls, H2C, a);

        Status denied = unaryFailure(ch, "status:7:no way, sorry", 10_000);
        assertThat(denied.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(denied.getDescription()).isEqualTo("no way, sorry");

        List<String> got = new ArrayList<>();
        Iterator<String> it = ClientCalls.blockingServerStreamingCall(ch, GrpcEcho.SPLIT, TEN_SECONDS,
                "a,b,c,status:10:aborted – halfway");
        StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(StatusRuntimeException.class,
                () -> it.forEachRemaining(got::add));
        assertThat(got).containsExactly("a", "b", "c");
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
        assertThat(e.getStatus().getDescription()).isEqualTo("aborted – halfway");

        assertThat(grpcCount(sluice, "PERMISSION_DENIED")).isEqualTo(1);
        assertThat(grpcCount(sluice, "ABORTED")).isEqualTo(1);
    }

    @ParameterizedTest(name = "tls listener: {0}")
    @ValueSource(booleans = {false, true})
    void aDeadlineAndACancelReachTheServer(boolean tls) throws Exception {
        GrpcTestServer a = h2cServer();
        ManagedChannel ch = client(tls, H2C, a);

        assertThat(unaryFailure(ch, "hang", 300).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.cancelled.get() == 1);

        // No deadline at all: only the client's cancel can tell the server.
        ClientCall<String, String> call = ch.newCall(GrpcEcho.CHAT, CallOptions.DEFAULT);
        Answers chat = new Answers();
        ClientCalls.asyncBidiStreamingCall(call, chat).onNext("one");
        assertThat(chat.messages.poll(10, TimeUnit.SECONDS)).isEqualTo("echo:one");
        call.cancel("changed my mind", null);
        await().atMost(Duration.ofSeconds(10)).until(() -> a.cancelled.get() == 2);

        // The deadline: Sluice's answer or the client's reset, whichever came first.
        await().atMost(Duration.ofSeconds(10)).until(
                () -> grpcCount(sluice, "CANCELLED") + grpcCount(sluice, "DEADLINE_EXCEEDED") == 2);
    }

    @Test
    void callsOfOneConnectionSpreadOverTheServers() throws Exception {
        GrpcTestServer a = h2cServer();
        GrpcTestServer b = h2cServer();
        ManagedChannel ch = client(false, H2C, a, b);
        for (int i = 0; i < 10; i++) {
            assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY, TEN_SECONDS, "n" + i)).isEqualTo("echo:n" + i);
        }
        assertThat(a.calls.get()).isEqualTo(5);
        assertThat(b.calls.get()).isEqualTo(5);
        assertThat(grpcCount(sluice, "OK")).isEqualTo(10);
    }

    @Test
    void overAnH2ClusterToATlsServer() throws Exception {
        Path[] cert = CA.server("app.internal").writePem(dir, "backend");
        GrpcTestServer a = resources.keep(GrpcTestServer.tls(cert[0], cert[1]));
        Path ca = CA.writePem(dir.resolve("backend-ca.pem"));
        ManagedChannel ch = client(true, ", protocol: h2, tls: { sni: app.internal, ca: \"%s\" }".formatted(ca), a);
        assertThat(ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY, TEN_SECONDS, "tls")).isEqualTo("echo:tls");
        List<String> parts = new ArrayList<>();
        ClientCalls.blockingServerStreamingCall(ch, GrpcEcho.SPLIT, TEN_SECONDS, "x,y").forEachRemaining(parts::add);
        assertThat(parts).containsExactly("x", "y");
        assertThat(unaryFailure(ch, "status:5:gone", 10_000).getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(grpcCount(sluice, "OK")).isEqualTo(2);
    }

    /** What a streaming call answered: its messages, and its end (null for OK, else the error). */
    private static final class Answers implements StreamObserver<String> {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> done = new CompletableFuture<>();

        @Override
        public void onNext(String value) {
            messages.add(value);
        }

        @Override
        public void onError(Throwable t) {
            done.complete(t);
        }

        @Override
        public void onCompleted() {
            done.complete(null);
        }
    }
}
