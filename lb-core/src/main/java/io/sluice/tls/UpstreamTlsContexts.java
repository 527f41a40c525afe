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
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the client TLS contexts of clusters from their {@code tls} settings, reading and checking the files
 * ({@link UpstreamTlsFiles}) each time (a reload picks up rotated files even when the config is unchanged).
 * Reads files, so never on an event loop: at start-up and on the control thread of a reload, before anything changes, so that a bad file
 * rejects the reload with nothing changed.
 */
public final class UpstreamTlsContexts {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTlsContexts.class);

    private UpstreamTlsContexts() {
    }

    /** A client context ready to use: what it was built from, and on which engine. */
    public record Built(UpstreamTlsConfig config, SslContext context, SslProvider provider) {
    }

    /** Files that could not be read, parsed or used, each named by its key and line in the config. */
    public static final class BuildFailure extends RuntimeException {
        private final transient List<ConfigError> errors;

        BuildFailure(List<ConfigError> errors) {
            super(errors.stream().map(ConfigError::toString).collect(java.util.stream.Collectors.joining("; ")));
            this.errors = List.copyOf(errors);
        }

        public List<ConfigError> errors() {
            return errors;
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
        UpstreamTlsFiles.Material files;
        try {
            files = UpstreamTlsFiles.load(where, tls, Instant.now());
        } catch (TlsFileException e) {
            throw new BuildFailure(e.errors());
        }
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(provider);
        if (h2) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
        }
        if (tls.verify()) {
            if (!files.ca().isEmpty()) {
                b.trustManager(files.ca());
            }
            b.endpointIdentificationAlgorithm("HTTPS");
        } else {
            log.warn("cluster {}: tls.verify is false: the servers' certificates are not checked, so anyone on the"
                    + " network path can pose as them", cluster);
            b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
        }
        if (files.client() != null) {
            b.keyManager(files.client().key(), files.client().chain());
        }
        try {
            return new Built(tls, b.build(), provider);
        } catch (SSLException | RuntimeException e) {
            throw new BuildFailure(List.of(new ConfigError(where, 0, 0, "cannot build the TLS context: "
                    + UpstreamTls.rootMessage(e))));
        }
    }

    /** Whether the TLS connection {@code ch} (handshake done) agreed on h2 by ALPN. */
    public static boolean negotiatedH2(Channel ch) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        return ssl != null && ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol());
    }
}
