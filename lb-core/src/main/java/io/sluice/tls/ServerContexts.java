package io.sluice.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.sluice.config.TlsConfig;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * Builds the server {@link SslContext} of one certificate as a listener's {@code tls} says: protocols, TLS 1.2
 * suites (TLS 1.3's are always on with TLSv1.3), ALPN, client certificates, session tickets and cache. OpenSSL
 * contexts are the reference-counted kind, so a replaced certificate's native memory is freed as soon as the last
 * connection using it is gone instead of whenever a finalizer runs.
 */
final class ServerContexts {
    static final List<String> TLS13_SUITES = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private ServerContexts() {
    }

    /** The names in {@code ciphers} the engine cannot use (unknown, or not built into it). */
    static List<String> unknownCiphers(SslProvider engine, List<String> ciphers) {
        List<String> out = new ArrayList<>();
        for (String c : ciphers) {
            boolean known = engine == SslProvider.JDK ? JdkSuites.SUPPORTED.contains(c) : OpenSsl.isCipherSuiteAvailable(c);
            if (!known) {
                out.add(c);
            }
        }
        return out;
    }

    static SslContext build(SslProvider engine, TlsConfig tls, ServerCertificate cert, List<X509Certificate> clientCa)
            throws SSLException {
        List<String> suites = new ArrayList<>(tls.ciphers().isEmpty() ? TlsConfig.DEFAULT_CIPHERS : tls.ciphers());
        if (tls.protocols().contains("TLSv1.3")) {
            suites.addAll(TLS13_SUITES);
        }
        SslContextBuilder b = SslContextBuilder.forServer(cert.key(), cert.chain().toArray(X509Certificate[]::new))
                .sslProvider(engine == SslProvider.JDK ? SslProvider.JDK : SslProvider.OPENSSL_REFCNT)
                .protocols(tls.protocols())
                .ciphers(suites, SupportedCipherSuiteFilter.INSTANCE)
                .clientAuth(switch (tls.clientAuth()) {
                    case NONE -> ClientAuth.NONE;
                    case OPTIONAL -> ClientAuth.OPTIONAL;
                    case REQUIRE -> ClientAuth.REQUIRE;
                });
        if (!tls.alpn().isEmpty()) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, tls.alpn()));
        }
        if (tls.clientAuth() != TlsConfig.ClientAuth.NONE) {
            b.trustManager(clientCa.toArray(X509Certificate[]::new));
        }
        SslContext context = b.build();
        if (context.sessionContext() instanceof OpenSslSessionContext openssl) {
            if (tls.sessionTickets()) {
                // No keys given: BoringSSL makes its own and rotates them. Without this call Netty turns tickets off.
                openssl.setTicketKeys();
            }
            // Separate from tickets, as in HAProxy and NGINX: with tickets off, clients still resume by session ID
            // (TLS 1.2) or by a stateful ticket (TLS 1.3) from this cache.
            openssl.setSessionCacheEnabled(tls.sessionCache());
        }
        return context;
    }

    /** The JDK's cipher suite names, looked up once. */
    private static final class JdkSuites {
        static final Set<String> SUPPORTED = supported();

        private static Set<String> supported() {
            try {
                return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("the JDK has no default TLS context", e);
            }
        }
    }
}
