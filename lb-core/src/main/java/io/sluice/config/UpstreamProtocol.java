package io.sluice.config;

/** What HTTP listeners speak to a cluster's servers ({@code clusters[].protocol}). */
public enum UpstreamProtocol {
    /** HTTP/1.1 with keep-alive connections, one request at a time on each. */
    HTTP1,
    /** HTTP/2 over TLS, agreed by ALPN: needs the cluster's {@code tls}. */
    H2,
    /** HTTP/2 in cleartext, by prior knowledge (the server must expect the preface). */
    H2C;

    public boolean http2() {
        return this != HTTP1;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
