package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.sluice.cluster.Server;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import io.sluice.config.UpstreamTlsConfig;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import io.sluice.testing.TestTls;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The client side of TLS to servers on both engines (OpenSSL through tcnative, and the JDK's), against a real
 * TLS echo server: trust, the name checked and sent as SNI, client certificates, and how failures are counted.
 */
class UpstreamTlsTest {
    private static final TestCertificates.Ca CA = TestCertificates.newCa("Upstream Test CA");
    private static final TestCertificates.Ca OTHER_CA = TestCertificates.newCa("Some Other CA");

    @TempDir
    Path dir;
    private EventLoopGroup group;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final UpstreamTlsErrors errors = new UpstreamTlsErrors();

    @BeforeEach
    void setUp() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private TestBackend echo(TestTls tls) throws Exception {
        TestBackend b = TestBackend.startTls("tls-echo", TestBackend.echo(), tls);
        resources.add(b);
        return b;
    }

    private Path caFile(TestCertificates.Ca ca) {
        return ca.writePem(dir.resolve(ca.certificate().getSerialNumber() + "-ca.pem"));
    }

    private UpstreamTls tls(UpstreamTlsConfig config, SslProvider provider) {
        return new UpstreamTls("app", UpstreamTlsContexts.build("clusters[0].tls", "app", config, provider), errors);
    }

    /** Connects as the proxy does (autoRead off) to {@code host:port} and runs the handshake, then echoes "ping". */
    private String roundTrip(UpstreamTls tls, String host, int port) throws Exception {
        Server server = new Server("app", new ServerConfig(new HostPort(host, port), 1, false));
        CompletableFuture<String> answer = new CompletableFuture<>();
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ByteBuf buf = (ByteBuf) msg;
                        answer.complete(buf.toString(StandardCharsets.US_ASCII));
                        buf.release();
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        ctx.close();
                    }

                    @Override
                    public void channelInactive(ChannelHandlerContext ctx) {
                        answer.complete("closed");
                    }
                });
        Promise<Channel> ready = group.next().newPromise();
        b.connect(new InetSocketAddress("127.0.0.1", port)).addListener(f -> {
            Channel ch = ((io.netty.channel.ChannelFuture) f).channel();
            if (!f.isSuccess()) {
                ready.setFailure(f.cause());
                return;
            }
            Future<Channel> hs = tls.secure(ch, server);
            hs.addListener(h -> {
                if (h.isSuccess()) {
                    ready.setSuccess(ch);
                } else {
                    ready.setFailure(h.cause());
                }
            });
        });
        if (!ready.await(10, TimeUnit.SECONDS) || !ready.isSuccess()) {
            return "failed: " + (ready.cause() == null ? "timeout" : UpstreamTlsErrors.classify(ready.cause()).label());
        }
        Channel ch = ready.getNow();
        ch.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII));
        ch.read();
        try {
            return answer.get(10, TimeUnit.SECONDS);
        } finally {
            ch.close().syncUninterruptibly();
        }
    }

    private static UpstreamTlsConfig verify(Path ca) {
        return new UpstreamTlsConfig(null, true, ca, null, null);
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void rightCaAndNameWorksAndSendsTheHostAsSni(SslProvider provider) throws Exception {
        TestTls server = TestTls.server(CA.server("app.test"));
        TestBackend b = echo(server);
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "app.test", b.port())).isEqualTo("ping");
        assertThat(server.sniNames()).containsExactly("app.test");
    }

    /** Both engines send no SNI for a name without a dot (RFC 6066 wants a fully qualified name) but still verify it. */
    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aSingleLabelNameIsVerifiedWithoutSni(SslProvider provider) throws Exception {
        TestTls server = TestTls.server(CA.server("localhost"));
        TestBackend b = echo(server);
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "localhost", b.port())).isEqualTo("ping");
        assertThat(server.sniNames()).containsExactly("");
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aServerGivenByIpAddressGetsNoSniAndIsVerifiedAgainstItsIpAddress(SslProvider provider) throws Exception {
        TestTls server = TestTls.server(CA.server("127.0.0.1"));
        TestBackend b = echo(server);
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "127.0.0.1", b.port())).isEqualTo("ping");
        assertThat(server.sniNames()).containsExactly("");
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void theConfiguredSniIsSentAndVerified(SslProvider provider) throws Exception {
        TestTls server = TestTls.server(CA.server("api.internal"));
        TestBackend b = echo(server);
        UpstreamTlsConfig named = new UpstreamTlsConfig("api.internal", true, caFile(CA), null, null);
        assertThat(roundTrip(tls(named, provider), "127.0.0.1", b.port())).isEqualTo("ping");
        assertThat(server.sniNames()).containsExactly("api.internal");
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aCertificateFromAnotherCaIsRefusedAndCounted(SslProvider provider) throws Exception {
        TestBackend b = echo(TestTls.server(OTHER_CA.server("localhost")));
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "localhost", b.port())).isEqualTo("failed: untrusted");
        assertThat(errors.count(UpstreamTlsErrors.Reason.UNTRUSTED)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aCertificateForAnotherNameIsRefusedAndCounted(SslProvider provider) throws Exception {
        TestBackend b = echo(TestTls.server(CA.server("other.example")));
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "localhost", b.port()))
                .isEqualTo("failed: name_mismatch");
        assertThat(errors.count(UpstreamTlsErrors.Reason.NAME_MISMATCH)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void verifyFalseAcceptsAnyCertificate(SslProvider provider) throws Exception {
        TestBackend b = echo(TestTls.server(OTHER_CA.server("other.example")));
        UpstreamTlsConfig insecure = new UpstreamTlsConfig(null, false, null, null, null);
        assertThat(roundTrip(tls(insecure, provider), "localhost", b.port())).isEqualTo("ping");
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aClientCertificateIsPresentedToAServerThatRequiresOne(SslProvider provider) throws Exception {
        TestCertificates.Ca clients = TestCertificates.newCa("Clients CA");
        TestTls server = TestTls.mutual(CA.server("localhost"), clients);
        TestBackend b = echo(server);
        // Under TLS 1.3 the server's refusal may come after our side of the handshake is done: then the
        // connection closes before any answer.
        assertThat(roundTrip(tls(verify(caFile(CA)), provider), "localhost", b.port()))
                .isIn("failed: refused_by_server", "closed");
        assertThat(server.clientCerts()).isEmpty();

        Path[] pair = clients.client("sluice-proxy").writePem(dir, "client");
        UpstreamTlsConfig mutual = new UpstreamTlsConfig(null, true, caFile(CA), pair[0], pair[1]);
        assertThat(roundTrip(tls(mutual, provider), "localhost", b.port())).isEqualTo("ping");
        assertThat(server.clientCerts()).containsExactly("CN=sluice-proxy");
    }

    @org.junit.jupiter.api.Test
    void aMissingFileFailsTheBuildNamingTheKey() {
        UpstreamTlsConfig missing = new UpstreamTlsConfig(null, true, null, dir.resolve("gone.pem"),
                dir.resolve("gone.key"));
        try {
            UpstreamTlsContexts.build("clusters[1].tls", "app", missing);
            throw new AssertionError("built");
        } catch (UpstreamTlsContexts.BuildFailure e) {
            assertThat(e.errors().toString()).contains("clusters[1].tls.cert: cannot read " + dir.resolve("gone.pem")
                    + ": no such file", "clusters[1].tls.key: cannot read " + dir.resolve("gone.key"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = SslProvider.class, names = {"OPENSSL", "JDK"})
    void aFileThatIsNoCertificateFailsTheBuildNamingTheKey(SslProvider provider) throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate\n");
        try {
            UpstreamTlsContexts.build("clusters[3].tls", "app", verify(junk), provider);
            throw new AssertionError("built");
        } catch (UpstreamTlsContexts.BuildFailure e) {
            assertThat(e.errors().get(0).path()).isEqualTo("clusters[3].tls.ca");
            assertThat(e.errors().get(0).message()).contains("junk.pem: no complete PEM certificate");
        }
    }
}
