package io.sluice.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import io.sluice.config.TlsConfig;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One full TLS 1.3 handshake (ECDHE on X25519 or P-256 as the engines agree, ECDSA P-256 signature, no resumption)
 * between a client and a server engine in memory, session tickets included: what a new HTTPS connection costs
 * before its first byte, without the network. {@code provider} is the server's engine; the client is the same
 * in both cases (see {@link TlsPeers}), so the difference between the two scores is the server's, while each
 * score includes the client's share.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TlsHandshakeBenchmark {

    @Param({"OPENSSL", "JDK"})
    public TlsConfig.Provider provider;

    private SslContext server;
    private SslContext client;
    private final ByteBuffer toServer = ByteBuffer.allocateDirect(TlsPeers.NETWORK_BUFFER);
    private final ByteBuffer toClient = ByteBuffer.allocateDirect(TlsPeers.NETWORK_BUFFER);
    private final ByteBuffer plaintext = ByteBuffer.allocateDirect(TlsPeers.NETWORK_BUFFER);

    @Setup(Level.Trial)
    public void setUp() throws SSLException {
        server = TlsPeers.server(provider, BenchCertificate.selfSigned("bench.example"));
        client = TlsPeers.client();
        String protocol = handshake();
        if (!protocol.equals("TLSv1.3")) {
            throw new IllegalStateException("negotiated " + protocol + ", the benchmark measures TLSv1.3");
        }
    }

    /** Returns the negotiated protocol, so the handshake cannot be optimised away. */
    @Benchmark
    public String handshake() throws SSLException {
        // No peer host and port: the client context offers no cached session, so every handshake is a full one.
        SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        try {
            toServer.clear();
            toClient.clear();
            TlsPeers.handshake(c, s, toServer, toClient, plaintext);
            return s.getSession().getProtocol();
        } finally {
            // OpenSSL engines hold native memory until released; JDK engines are not reference counted.
            ReferenceCountUtil.release(c);
            ReferenceCountUtil.release(s);
        }
    }
}
