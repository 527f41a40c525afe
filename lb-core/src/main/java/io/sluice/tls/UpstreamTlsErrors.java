package io.sluice.tls;

import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;

/**
 * Failed TLS handshakes with one cluster's servers, by reason. Kept by the cluster across reloads (a rebuilt
 * context counts on), and read by {@code sluice_upstream_tls_handshake_errors_total{cluster,reason}}.
 */
public final class UpstreamTlsErrors {

    /** Why a handshake failed: a short, bounded set, so that it can be a metric label. */
    public enum Reason {
        /** The server's chain does not lead to a trusted CA (wrong {@code ca}, self-signed, incomplete chain). */
        UNTRUSTED("untrusted"),
        /** The certificate is valid but not for the name checked ({@code sni}, or the server's host or IP). */
        NAME_MISMATCH("name_mismatch"),
        /** The server's certificate has expired or is not valid yet. */
        EXPIRED("expired"),
        /** The server refused us with an alert (our client certificate, protocol versions, ciphers). */
        REFUSED_BY_SERVER("refused_by_server"),
        /** The server does not speak TLS on that port. */
        NOT_TLS("not_tls"),
        /** No handshake within connect_timeout. */
        TIMEOUT("timeout"),
        /** The connection closed during the handshake. */
        CLOSED("closed"),
        OTHER("other");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final LongAdder[] counts = new LongAdder[Reason.values().length];
    /** When each reason was last logged (nanoTime), so a broken server logs a line a second, not one a request. */
    private final AtomicLongArray lastLogged = new AtomicLongArray(Reason.values().length);

    public UpstreamTlsErrors() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
        for (int i = 0; i < counts.length; i++) {
            lastLogged.set(i, System.nanoTime() - 2_000_000_000L);
        }
    }

    public long count(Reason reason) {
        return counts[reason.ordinal()].sum();
    }

    /** Counts one failure; true when it should be logged (the first of its reason in a second). */
    boolean record(Reason reason) {
        counts[reason.ordinal()].increment();
        long now = System.nanoTime();
        long last = lastLogged.get(reason.ordinal());
        return now - last >= 1_000_000_000L && lastLogged.compareAndSet(reason.ordinal(), last, now);
    }

    /** Sorts a handshake failure by its cause chain; the JDK and OpenSSL engines both carry the JDK's cause. */
    static Reason classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String msg = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException
                    || t instanceof CertPathValidatorException v
                    && v.getReason() == CertPathValidatorException.BasicReason.EXPIRED) {
                return Reason.EXPIRED;
            }
            if (msg.contains("no subject alternative") || msg.contains("no name matching")
                    || msg.contains("subject alternative names")) {
                return Reason.NAME_MISMATCH;
            }
            if (t instanceof CertPathBuilderException || msg.contains("unable to find valid certification path")
                    || msg.contains("pkix path")) {
                return Reason.UNTRUSTED;
            }
            if (t instanceof SslHandshakeTimeoutException) {
                return Reason.TIMEOUT;
            }
            if (t instanceof NotSslRecordException) {
                return Reason.NOT_TLS;
            }
            if (t instanceof SSLException && msg.contains("received fatal alert")
                    || msg.contains("sslv3_alert") || msg.contains("tlsv1_alert") || msg.contains("tlsv13_alert")) {
                return Reason.REFUSED_BY_SERVER;
            }
            if (t instanceof ClosedChannelException || msg.contains("closed") || msg.contains("connection reset")) {
                return Reason.CLOSED;
            }
        }
        return Reason.OTHER;
    }
}
