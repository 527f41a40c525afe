package io.sluice.http;

/** The protocol a client spoke for one request: the {@code protocol} label of the request counters. */
public enum HttpProtocol {
    HTTP1("http1"), HTTP2("http2");

    private final String label;

    HttpProtocol(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
