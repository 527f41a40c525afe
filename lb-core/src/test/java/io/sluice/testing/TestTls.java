package io.sluice.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * The server side of TLS for test backends ({@link TestBackend}, the HTTP test backend): the JDK's
 * SSLServerSocket with a certificate from {@link TestCertificates}, optionally requiring a client certificate.
 * Records what each handshake brought: how many completed, the SNI the client sent, the client's certificate.
 */
public final class TestTls {
    private final SSLContext context;
    private final boolean requireClientCert;
    private final AtomicInteger handshakes = new AtomicInteger();
    private final AtomicInteger failedHandshakes = new AtomicInteger();
    /** The SNI host name of each completed handshake, "" when the client sent none. */
    private final List<String> sniNames = new CopyOnWriteArrayList<>();
    private final List<String> clientCerts = new CopyOnWriteArrayList<>();

    private TestTls(TestCertificates.Issued cert, TestCertificates.Ca clientCa) {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(cert.keyStore(), "secret".toCharArray());
            TrustManagerFactory tmf = null;
            if (clientCa != null) {
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(clientCa.trustStore());
            }
            context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        this.requireClientCert = clientCa != null;
    }

    /** A server presenting {@code cert} (its chain). */
    public static TestTls server(TestCertificates.Issued cert) {
        return new TestTls(cert, null);
    }

    /** A server presenting {@code cert} that refuses clients without a certificate issued by {@code clientCa}. */
    public static TestTls mutual(TestCertificates.Issued cert, TestCertificates.Ca clientCa) {
        return new TestTls(cert, clientCa);
    }

    /** An unbound listening socket that speaks TLS. */
    public ServerSocket newServerSocket() throws IOException {
        SSLServerSocket s = (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        s.setNeedClientAuth(requireClientCert);
        return s;
    }

    /**
     * Runs the handshake of an accepted socket now (on its connection's thread) and records it; false when it
     * failed (the client did not trust us, or had no certificate we accept).
     */
    public boolean handshake(Socket s) {
        SSLSocket ssl = (SSLSocket) s;
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            failedHandshakes.incrementAndGet();
            return false;
        }
        SSLSession session = ssl.getSession();
        String sni = "";
        if (session instanceof ExtendedSSLSession ext) {
            for (SNIServerName n : ext.getRequestedServerNames()) {
                if (n instanceof SNIHostName h) {
                    sni = h.getAsciiName();
                }
            }
        }
        sniNames.add(sni);
        try {
            clientCerts.add(session.getPeerPrincipal().getName());
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate
        }
        handshakes.incrementAndGet();
        return true;
    }

    /** Completed handshakes: one per TLS connection that got as far as application data. */
    public int handshakes() {
        return handshakes.get();
    }

    public int failedHandshakes() {
        return failedHandshakes.get();
    }

    public List<String> sniNames() {
        return sniNames;
    }

    /** Subject names of the client certificates presented. */
    public List<String> clientCerts() {
        return clientCerts;
    }
}
