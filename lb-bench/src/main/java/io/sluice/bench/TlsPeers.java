package io.sluice.bench;

import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.config.TlsConfig;
import io.sluice.tls.TlsEngines;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * The two ends of the TLS benchmarks: a server on the provider being measured, with the ECDSA P-256 certificate,
 * and a client that is the same whatever the server's provider (OpenSSL when it loads, and no certificate path
 * validation), so that a difference between providers is the server's. TLS 1.3 only, as in the load comparison.
 */
final class TlsPeers {
    /** Larger than any handshake flight or TLS record (16 KiB of plaintext plus overhead). */
    static final int NETWORK_BUFFER = 64 * 1024;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private static final int MAX_ROUNDS = 64;

    private TlsPeers() {
    }

    static SslContext server(TlsConfig.Provider provider, BenchCertificate cert) throws SSLException {
        return SslContextBuilder.forServer(cert.key(), cert.certificate())
                .sslProvider(TlsEngines.choose(provider)).protocols("TLSv1.3").build();
    }

    static SslContext client() throws SSLException {
        SslProvider provider = TlsEngines.choose(TlsConfig.Provider.AUTO);
        SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(provider).protocols("TLSv1.3")
                .trustManager(InsecureTrustManagerFactory.INSTANCE);
        if (provider != SslProvider.JDK) {
            // BoringSSL would offer the X25519MLKEM768 hybrid, which the JDK's server cannot take and the load
            // comparison's clients (wrk on OpenSSL 3.0) do not offer: X25519 for every server, as with wrk.
            builder.option(OpenSslContextOption.GROUPS, new String[] {"X25519", "P-256"});
        }
        return builder.build();
    }

    /**
     * Runs a handshake between two engines through two in-memory network buffers (held in write mode: position is
     * the bytes waiting) until neither has anything left to send or read, post-handshake session tickets included.
     */
    static void handshake(SSLEngine client, SSLEngine server, ByteBuffer toServer, ByteBuffer toClient,
                          ByteBuffer plaintext) throws SSLException {
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean moved = step(client, toClient, toServer, plaintext);
            moved |= step(server, toServer, toClient, plaintext);
            if (!moved && done(client) && done(server) && toServer.position() == 0 && toClient.position() == 0) {
                return;
            }
        }
        throw new SSLException("handshake did not finish: client " + client.getHandshakeStatus() + ", server "
                + server.getHandshakeStatus());
    }

    /** Reads what arrived, runs delegated tasks and writes what must be sent; true when any bytes moved. */
    private static boolean step(SSLEngine engine, ByteBuffer in, ByteBuffer out, ByteBuffer plaintext)
            throws SSLException {
        boolean moved = false;
        // OpenSSL's engine reports NOT_HANDSHAKING as soon as its handshake is done, even with its last flight
        // still to be wrapped; only the result of the unwrap says NEED_WRAP then.
        boolean wrapNext = false;
        // And a server that has read the client's Finished still says NEED_UNWRAP until its next wrap or unwrap
        // lets it notice (SslHandler's read loop does the same): one empty wrap when waiting with nothing to read.
        boolean probed = false;
        while (true) {
            HandshakeStatus status = wrapNext ? HandshakeStatus.NEED_WRAP : engine.getHandshakeStatus();
            SSLEngineResult result;
            if (status == HandshakeStatus.NEED_TASK) {
                for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
                    task.run();
                }
                continue;
            } else if (status == HandshakeStatus.NEED_WRAP) {
                result = engine.wrap(NOTHING, out);
            } else if (in.position() > 0) {
                in.flip();
                plaintext.clear();
                result = engine.unwrap(in, plaintext);
                in.compact();
            } else if (status == HandshakeStatus.NEED_UNWRAP && !probed) {
                probed = true;
                result = engine.wrap(NOTHING, out);
            } else {
                return moved;
            }
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                return moved;
            }
            if (result.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("unexpected " + result);
            }
            wrapNext = result.getHandshakeStatus() == HandshakeStatus.NEED_WRAP;
            if (result.bytesConsumed() == 0 && result.bytesProduced() == 0
                    && engine.getHandshakeStatus() != HandshakeStatus.NEED_TASK) {
                return moved;
            }
            moved = true;
        }
    }

    private static boolean done(SSLEngine engine) {
        return engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
    }
}
