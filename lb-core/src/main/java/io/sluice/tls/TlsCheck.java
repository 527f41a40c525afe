package io.sluice.tls;

import io.netty.handler.ssl.SslProvider;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ConfigError;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TlsConfig;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What the config loader cannot see from YAML alone: whether the TLS engine asked for is here, whether it knows
 * the cipher names, and whether the certificate and key files (of listeners and of clusters' TLS to their
 * servers) are readable, matching and in date. The check {@code sluice check}, start and every reload run, so
 * all three report the same errors with the same lines.
 */
public final class TlsCheck {

    private TlsCheck() {
    }

    /** Errors make a config unusable; warnings (a certificate that expires within 14 days) do not. */
    public record Findings(List<ConfigError> errors, List<ConfigError> warnings) {
    }

    public static Findings check(SluiceConfig config) {
        List<ConfigError> errors = new ArrayList<>();
        List<ConfigError> warnings = new ArrayList<>();
        Instant now = Instant.now();
        for (ListenerConfig l : config.listeners()) {
            TlsConfig tls = l.tls();
            if (tls == null) {
                continue;
            }
            try {
                engine(tls);
            } catch (TlsFileException e) {
                errors.addAll(e.errors());
            }
            try {
                warnings.addAll(TlsFiles.load(tls, now).warnings());
            } catch (TlsFileException e) {
                errors.addAll(e.errors());
            }
        }
        for (int i = 0; i < config.clusters().size(); i++) {
            ClusterConfig c = config.clusters().get(i);
            if (c.tls() == null) {
                continue;
            }
            try {
                warnings.addAll(UpstreamTlsFiles.load("clusters[" + i + "].tls", c.tls(), now).warnings());
            } catch (TlsFileException e) {
                errors.addAll(e.errors());
            }
        }
        return new Findings(errors, warnings);
    }

    /** The engine a listener's TLS runs on, checked to be here and to know the cipher names configured. */
    static SslProvider engine(TlsConfig tls) {
        TlsConfig.Located ciphersAt = tls.ciphersAt();
        SslProvider engine;
        try {
            engine = TlsEngines.choose(tls.provider());
        } catch (IllegalArgumentException e) {
            String section = ciphersAt.configPath().substring(0, ciphersAt.configPath().lastIndexOf('.') + 1);
            throw new TlsFileException(List.of(new ConfigError(section + "provider", ciphersAt.line(),
                    ciphersAt.column(), e.getMessage())));
        }
        if (engine == SslProvider.JDK && !tls.sessionCache()) {
            // provider: jdk is refused by the reader; this is auto where OpenSSL does not load.
            String section = ciphersAt.configPath().substring(0, ciphersAt.configPath().lastIndexOf('.') + 1);
            throw new TlsFileException(List.of(new ConfigError(section + "session_cache", ciphersAt.line(),
                    ciphersAt.column(), TlsConfig.SESSION_CACHE_NEEDS_OPENSSL + "; OpenSSL does not load here")));
        }
        List<String> unknown = ServerContexts.unknownCiphers(engine, tls.ciphers());
        if (!unknown.isEmpty()) {
            throw new TlsFileException(List.of(new ConfigError(ciphersAt.configPath(), ciphersAt.line(),
                    ciphersAt.column(), "unknown to the " + (engine == SslProvider.JDK ? "JDK" : "OpenSSL")
                    + " TLS engine: " + String.join(", ", unknown) + " (use IANA names, such as "
                    + TlsConfig.DEFAULT_CIPHERS.get(0) + ")")));
        }
        return engine;
    }
}
