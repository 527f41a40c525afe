package io.sluice.tls;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;
import io.sluice.config.TlsConfig;

/**
 * Which TLS engine a context is built on. {@code auto} takes OpenSSL (BoringSSL through netty-tcnative) when its
 * native library loads on this machine, else the JDK's engine; asking for {@code openssl} where it cannot load is
 * an error rather than a silent fallback, so a benchmark or a compliance setting gets what it named.
 */
public final class TlsEngines {

    private TlsEngines() {
    }

    /** The engine for {@code wanted}; throws IllegalArgumentException with the reason when OpenSSL was asked for and is missing. */
    public static SslProvider choose(TlsConfig.Provider wanted) {
        return switch (wanted) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalArgumentException("tls.provider openssl is not available here: "
                            + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** For the startup log: "OpenSSL (BoringSSL ...)" or "JDK". */
    public static String describe(SslProvider provider) {
        return provider == SslProvider.JDK ? "JDK " + System.getProperty("java.version")
                : "OpenSSL (" + OpenSsl.versionString() + ")";
    }
}
