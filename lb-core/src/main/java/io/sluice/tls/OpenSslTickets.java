package io.sluice.tls;

import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import javax.net.ssl.SSLEngine;

/**
 * Turns session tickets off on one connection's OpenSSL engine. Netty's engine turns them back on for each
 * connection where TLS 1.3 is enabled (its reading of {@code jdk.tls.server.enableSessionTicketExtension}, true by
 * default), whatever the context says, and for TLS 1.2 handshakes on it too: without this,
 * {@code session_tickets: false} let every client resume.
 */
final class OpenSslTickets {

    private OpenSslTickets() {
    }

    /** On the connection's event loop, before its handshake: sets a flag in memory only. */
    static void turnOff(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
            SSL.setOptions(openssl.sslPointer(), SSL.SSL_OP_NO_TICKET);
        }
    }
}
