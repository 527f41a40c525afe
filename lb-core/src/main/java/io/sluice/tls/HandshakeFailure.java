package io.sluice.tls;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;

/**
 * Why a client's handshake failed, as a bounded set of reasons (the {@code reason} label of
 * {@code sluice_tls_handshake_errors_total}). Engines report the same failure in different words (BoringSSL's
 * {@code NO_SHARED_CIPHER}, the JDK's "no cipher suites in common"), so both vocabularies map here.
 */
public enum HandshakeFailure {
    /** The first bytes were not a TLS record: a plaintext client on a TLS port. */
    NOT_TLS("not_tls"),
    /** No ClientHello, or no finished handshake, within the handshake timeout. */
    TIMEOUT("timeout"),
    /** The client closed or reset the connection during the handshake. */
    CLOSED("closed"),
    /** No protocol version both sides enable. */
    PROTOCOL_VERSION("protocol_version"),
    /** No cipher suite both sides enable. */
    NO_SHARED_CIPHER("no_shared_cipher"),
    /** client_auth: require, and the client sent no certificate. */
    CLIENT_CERTIFICATE_MISSING("client_certificate_missing"),
    /** The client's certificate does not chain to client_ca (or is expired, or not for client use). */
    CLIENT_CERTIFICATE_REJECTED("client_certificate_rejected"),
    /** The client gave up with an alert, typically because it does not trust the server's certificate. */
    CLIENT_ALERT("client_alert"),
    /** A ClientHello larger than any real one, or malformed. */
    BAD_CLIENT_HELLO("bad_client_hello"),
    OTHER("other");

    private final String label;

    HandshakeFailure(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    static HandshakeFailure of(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof NotSslRecordException) {
                return NOT_TLS;
            }
            if (t instanceof SslHandshakeTimeoutException) {
                return TIMEOUT;
            }
            if (t instanceof TooLongFrameException) {
                return BAD_CLIENT_HELLO;
            }
            if (t instanceof ClosedChannelException) {
                return CLOSED;
            }
        }
        String m = messages(cause);
        if (m.contains("PROTOCOL_VERSION") || m.contains("UNSUPPORTED_PROTOCOL") || m.contains("NO APPROPRIATE PROTOCOL")
                || m.contains("CLIENT REQUESTED PROTOCOL") || m.contains("UNSUPPORTED_SSL_VERSION")
                || m.contains("WRONG_VERSION_NUMBER")) {
            return PROTOCOL_VERSION;
        }
        if (m.contains("NO_SHARED_CIPHER") || m.contains("NO CIPHER SUITES IN COMMON") || m.contains("NO_CIPHERS")
                || m.contains("NO_SHARED_GROUP")) {
            return NO_SHARED_CIPHER;
        }
        if (m.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") || m.contains("EMPTY CLIENT CERTIFICATE CHAIN")
                || m.contains("EMPTY SERVER CERTIFICATE CHAIN") || m.contains("CERTIFICATE_REQUIRED")) {
            return CLIENT_CERTIFICATE_MISSING;
        }
        if (m.contains("CERTIFICATE_VERIFY_FAILED") || m.contains("PKIX") || m.contains("CERTIFICATE EXPIRED")
                || m.contains("EXTENDED KEY USAGE") || m.contains("CERTIFICATE_EXPIRED")) {
            return CLIENT_CERTIFICATE_REJECTED;
        }
        if (m.contains("ALERT")) {
            return CLIENT_ALERT;
        }
        if (m.contains("CONNECTION RESET") || m.contains("BROKEN PIPE") || cause instanceof IOException
                && !(cause instanceof javax.net.ssl.SSLException)) {
            return CLOSED;
        }
        if (m.contains("CLIENTHELLO") || m.contains("DECODE_ERROR") || m.contains("UNEXPECTED_MESSAGE")
                || m.contains("UNEXPECTED_RECORD")) {
            return BAD_CLIENT_HELLO;
        }
        return OTHER;
    }

    private static String messages(Throwable cause) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                b.append(t.getMessage()).append(' ');
            }
        }
        return b.toString().toUpperCase(Locale.ROOT);
    }
}
