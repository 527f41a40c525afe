package io.sluice.tls;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.sluice.cluster.Server;
import io.sluice.cluster.UpstreamSecurity;
import io.sluice.config.HostPort;
import io.sluice.config.UpstreamTlsConfig;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cluster's client TLS, as built from its {@code tls} settings and files at one start or reload: the
 * context (trust, client certificate) and the name each connection sends and verifies. Immutable; a reload
 * builds a new one (see {@link UpstreamTlsContexts}) and the cluster publishes it with one write.
 */
public final class UpstreamTls implements UpstreamSecurity {
    private static final Logger log = LoggerFactory.getLogger(UpstreamTls.class);

    private final String cluster;
    private final UpstreamTlsConfig config;
    private final SslContext context;
    private final SslProvider provider;
    private final UpstreamTlsErrors errors;

    /** {@code built} for {@code cluster}, counting failed handshakes in the cluster's {@code errors}. */
    public UpstreamTls(String cluster, UpstreamTlsContexts.Built built, UpstreamTlsErrors errors) {
        this.cluster = cluster;
        this.config = built.config();
        this.context = built.context();
        this.provider = built.provider();
        this.errors = errors;
    }

    public UpstreamTlsConfig config() {
        return config;
    }

    public SslProvider provider() {
        return provider;
    }

    /**
     * The name sent as SNI and checked against the certificate: {@code sni} if set, else the host of the
     * server's configured address. For an IP address no SNI goes out (it may carry none) and the certificate
     * must name that address.
     */
    String peerHost(Server server) {
        if (config.sni() != null) {
            return config.sni();
        }
        HostPort address = server.address();
        return address.host();
    }

    @Override
    public Future<Channel> secure(Channel ch, Server server) {
        return start(ch, server, true);
    }

    @Override
    public Future<Channel> probe(Channel ch, Server server) {
        return start(ch, server, false);
    }

    private Future<Channel> start(Channel ch, Server server, boolean account) {
        String host = peerHost(server);
        SslHandler ssl = context.newHandler(ch.alloc(), host, server.address().port());
        if (config.verify()) {
            // Netty 4.2's client contexts verify the name already; set here as well so that the check cannot
            // silently go away with a library default.
            SSLEngine engine = ssl.engine();
            SSLParameters params = engine.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            engine.setSSLParameters(params);
        }
        int timeout = ch.config().getConnectTimeoutMillis();
        if (timeout > 0) {
            ssl.setHandshakeTimeoutMillis(timeout);
        }
        HandshakeGate gate = new HandshakeGate();
        Future<Channel> done = ssl.handshakeFuture();
        Promise<Channel> result = account ? null : ch.eventLoop().newPromise();
        done.addListener(f -> {
            if (f.isSuccess()) {
                if (ch.pipeline().context(gate) != null) {
                    ch.pipeline().remove(gate);
                }
                if (result != null) {
                    result.setSuccess(ch);
                }
            } else if (account) {
                failed(server, host, f.cause());
            } else {
                // A probe's failure is its detail on the status page and in the DOWN log line: say it plainly.
                result.setFailure(new SSLHandshakeException(UpstreamTlsErrors.classify(f.cause()).label() + ": "
                        + rootMessage(f.cause())));
            }
        });
        ch.pipeline().addFirst(gate);
        ch.pipeline().addFirst(ssl);
        if (!ch.config().isAutoRead()) {
            ch.read(); // the server's first flight; the SslHandler asks for more until the handshake is done
        }
        return result != null ? result : done;
    }

    private void failed(Server server, String host, Throwable cause) {
        UpstreamTlsErrors.Reason reason = UpstreamTlsErrors.classify(cause);
        if (errors.record(reason)) {
            log.warn("cluster {}: TLS handshake with server {} failed ({}{}): {}", cluster, server.label(),
                    reason.label(), reason == UpstreamTlsErrors.Reason.NAME_MISMATCH
                            ? ", checked name " + host : "", rootMessage(cause));
        }
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }
}
