package io.sluice.testing;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/** grpc-java channels for tests: h2c with prior knowledge, or TLS trusting a test CA (authority "localhost"). */
public final class GrpcClients {
    private GrpcClients() {
    }

    public static ManagedChannel h2c(int port) {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    public static ManagedChannel tls(int port, Path caPem) throws SSLException {
        return NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority("localhost")
                .sslContext(GrpcSslContexts.forClient().trustManager(caPem.toFile()).build()).build();
    }

    public static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
