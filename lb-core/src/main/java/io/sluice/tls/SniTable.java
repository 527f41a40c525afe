package io.sluice.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One immutable choice of certificate by SNI: exact names first, then wildcards ({@code *.example.com} matches
 * exactly one more label, as RFC 6125 says), then the first certificate for everything else, including clients
 * that send no SNI. Published whole with one volatile write; the contexts it holds are released together once a
 * newer table has replaced it.
 */
final class SniTable {
    private final List<ServerCertificate> certificates;
    private final List<SslContext> contexts;
    private final Map<String, SslContext> exact = new HashMap<>();
    /** By the part after {@code *.}: "example.com" for "*.example.com". */
    private final Map<String, SslContext> wildcard = new HashMap<>();
    private final Map<String, Instant> expiry;
    private final String digest;

    SniTable(List<ServerCertificate> certificates, List<SslContext> contexts, String digest) {
        this.certificates = List.copyOf(certificates);
        this.contexts = List.copyOf(contexts);
        this.digest = digest;
        Map<String, Instant> notAfter = new LinkedHashMap<>();
        for (int i = 0; i < certificates.size(); i++) {
            ServerCertificate c = certificates.get(i);
            for (String name : c.names()) {
                // The first certificate that names a host serves it, as it was listed first.
                if (name.startsWith("*.")) {
                    wildcard.putIfAbsent(name.substring(2), contexts.get(i));
                } else {
                    exact.putIfAbsent(name, contexts.get(i));
                }
                notAfter.putIfAbsent(name, c.notAfter());
            }
            if (c.names().isEmpty()) {
                notAfter.putIfAbsent(TlsFiles.describe(c), c.notAfter());
            }
        }
        this.expiry = Collections.unmodifiableMap(notAfter);
    }

    SslContext select(String host) {
        if (host != null) {
            String h = host.toLowerCase(Locale.ROOT);
            if (h.endsWith(".")) {
                h = h.substring(0, h.length() - 1);
            }
            SslContext c = exact.get(h);
            if (c != null) {
                return c;
            }
            int dot = h.indexOf('.');
            if (dot > 0) {
                c = wildcard.get(h.substring(dot + 1));
                if (c != null) {
                    return c;
                }
            }
        }
        return contexts.get(0);
    }

    /** Each name's notAfter; a certificate without names is listed by its subject. */
    Map<String, Instant> expiry() {
        return expiry;
    }

    List<ServerCertificate> certificates() {
        return certificates;
    }

    String digest() {
        return digest;
    }

    /** Gives up this table's hold on its contexts; connections that still use one keep it alive. */
    void release() {
        for (SslContext c : contexts) {
            ReferenceCountUtil.release(c);
        }
    }

}
