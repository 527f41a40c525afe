package io.sluice.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.sluice.config.TlsConfig;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * The encrypting half of the hot path: a response of {@code size} bytes written and flushed through the server's
 * {@link SslHandler} after the handshake, which wraps it into one TLS 1.3 record (AES-GCM or ChaCha20 as the
 * engines agree) and hands the ciphertext on, with the handler's buffer allocation and copy included. 16 KiB is
 * the largest record TLS allows.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TlsRecordBenchmark {

    @Param({"OPENSSL", "JDK"})
    public TlsConfig.Provider provider;

    @Param({"64", "1024", "16384"})
    public int size;

    private EmbeddedChannel server;
    private EmbeddedChannel client;
    private ByteBuf payload;

    @Setup(Level.Trial)
    public void setUp() throws SSLException {
        SslContext serverContext = TlsPeers.server(provider, BenchCertificate.selfSigned("bench.example"));
        server = new EmbeddedChannel(serverContext.newHandler(ByteBufAllocator.DEFAULT));
        client = new EmbeddedChannel(TlsPeers.client().newHandler(ByteBufAllocator.DEFAULT));
        for (int round = 0; !handshaken(server) || !handshaken(client); round++) {
            if (round == 64 || !(relay(client, server) | relay(server, client))) {
                throw new IllegalStateException("handshake stalled");
            }
        }
        relay(server, client); // session tickets that came after the server's Finished
        String protocol = server.pipeline().get(SslHandler.class).engine().getSession().getProtocol();
        if (!protocol.equals("TLSv1.3")) {
            throw new IllegalStateException("negotiated " + protocol + ", the benchmark measures TLSv1.3");
        }
        byte[] bytes = new byte[size];
        new SplittableRandom(size).nextBytes(bytes);
        // Direct, as a backend's response arrives from its socket.
        payload = ByteBufAllocator.DEFAULT.directBuffer(size).writeBytes(bytes);
    }

    /** Returns the ciphertext's length (payload plus the record's 22 bytes of header, type and tag). */
    @Benchmark
    public int encrypt() {
        server.writeOutbound(payload.retainedDuplicate());
        int length = 0;
        for (ByteBuf record; (record = server.readOutbound()) != null; ) {
            length += record.readableBytes();
            record.release();
        }
        return length;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        payload.release();
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    private static boolean handshaken(EmbeddedChannel channel) {
        return channel.pipeline().get(SslHandler.class).handshakeFuture().isSuccess();
    }

    /** Hands everything {@code from} sent to {@code to}; true when there was something. */
    private static boolean relay(EmbeddedChannel from, EmbeddedChannel to) {
        boolean any = false;
        for (ByteBuf bytes; (bytes = from.readOutbound()) != null; ) {
            to.writeInbound(bytes);
            any = true;
        }
        return any;
    }
}
