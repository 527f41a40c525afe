package io.sluice.config;

/** {@code clusters[].send_proxy_protocol}: which PROXY protocol header opens each connection to a server. */
public enum ProxyProtocolVersion {
    /** The text header ({@code PROXY TCP4 ...}). */
    V1,
    /** The binary header. */
    V2
}
