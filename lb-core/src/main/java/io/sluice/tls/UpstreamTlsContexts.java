package io.sluice.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ConfigError;
import io.sluice.config.TlsConfig;
import io.sluice.config.UpstreamTlsConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the client TLS contexts of clusters from their {@code tls} settings, reading and parsing the files
 * each time (a reload picks up rotated files even when the config is unchanged). Reads files, so never on an
 * event loop: at start-up and on the control thread of a reload, before anything changes, so that a bad file
 * rejects the reload with nothing changed.
 */
public final class UpstreamTlsContexts {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTlsContexts.class);

    private UpstreamTlsContexts() {
    }

    /** A client context ready to use: what it was built from, and on which engine. */
    public record Built(UpstreamTlsConfig config, SslContext context, SslProvider provider) {
    }

    /** A file that could not be read or parsed, named by its place in the config. */
    public static final class BuildFailure extends RuntimeException {
        private final transient ConfigError error;

        BuildFailure(ConfigError error) {
            super(error.toString());
            this.error = error;
        }

        public ConfigError error() {
            return error;
        }
    }

    /** Contexts for every cluster with {@code tls}, by cluster name; throws on the first that cannot be built. */
    public static Map<String, Built> buildAll(List<ClusterConfig> clusters) {
        Map<String, Built> out = new LinkedHashMap<>();
        for (int i = 0; i < clusters.size(); i++) {
            ClusterConfig c = clusters.get(i);
            if (c.tls() != null) {
                out.put(c.name(), build("clusters[" + i + "].tls", c.name(), c.tls(), c.protocol().http2(),
                        TlsEngines.choose(TlsConfig.Provider.AUTO)));
            }
        }
        return out;
    }

    /** The context for one cluster's {@code tls}; {@code where} names it in errors (clusters[2].tls). */
    public static Built build(String where, String cluster, UpstreamTlsConfig tls) {
        return build(where, cluster, tls, TlsEngines.choose(TlsConfig.Provider.AUTO));
    }

    /** The same on a given engine (tests run both). */
    static Built build(String where, String cluster, UpstreamTlsConfig tls, SslProvider provider) {
        return build(where, cluster, tls, false, provider);
    }

    /**
     * With {@code h2} the context offers only "h2" by ALPN: a server that does not pick it fails the connect
     * (see {@link #negotiatedH2}) rather than being spoken HTTP/2 to while it expects HTTP/1.1.
     */
    static Built build(String where, String cluster, UpstreamTlsConfig tls, boolean h2, SslProvider provider) {
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider);
        if (h2) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
        }
        if (tls.verify()) {
            if (tls.ca() != null) {
                byte[] ca = read(where, "ca", tls.ca());
                try {
                    b.trustManager(new ByteArrayInputStream(ca));
                } catch (IllegalArgumentException e) {
                    throw failure(where, "ca", tls.ca() + " holds no PEM certificate: " + UpstreamTls.rootMessage(e));
                }
            }
            b.endpointIdentificationAlgorithm("HTTPS");
        } else {
            log.warn("cluster {}: tls.verify is false: the servers' certificates are not checked, so anyone on the"
                    + " network path can pose as them", cluster);
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        }
        if (tls.cert() != null) {
            byte[] cert = read(where, "cert", tls.cert());
            byte[] key = read(where, "key", tls.key());
            try {
                b.keyManager(new ByteArrayInputStream(cert), new ByteArrayInputStream(key));
            } catch (IllegalArgumentException e) {
                String what = String.valueOf(e.getMessage()).contains("key") ? "key" : "cert";
                throw failure(where, what, (what.equals("key") ? tls.key() + " holds no PEM private key: "
                        : tls.cert() + " holds no PEM certificate: ") + UpstreamTls.rootMessage(e));
            }
        }
        try {
            return new Built(tls, b.build(), provider);
        } catch (SSLException | RuntimeException e) {
            throw failure(where, "", "cannot build the TLS context: " + UpstreamTls.rootMessage(e));
        }
    }

    /** Whether the TLS connection {@code ch} (handshake done) agreed on h2 by ALPN. */
    public static boolean negotiatedH2(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        return ssl != null && ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol());
    }

    private static byte[] read(String where, String key, Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw failure(where, key, "no such file: " + file);
        } catch (java.nio.file.AccessDeniedException e) {
            throw failure(where, key, "cannot read " + file + " (permissions)");
        } catch (IOException e) {
            throw failure(where, key, "cannot read " + file + ": " + e.getMessage());
        }
    }

    private static BuildFailure failure(String where, String key, String message) {
        return new BuildFailure(new ConfigError(key.isEmpty() ? where : where + "." + key, 0, 0, message));
    }
}
