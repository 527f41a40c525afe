package io.sluice.config;

/** {@code runtime.http_front}: what serves HTTP/1.1 client connections. */
public enum HttpFront {
    /**
     * On io_uring, a plain listener (no TLS, PROXY header from clients, or cluster that sends PROXY headers) serves
     * plain bodiless requests on io_uring operations without Netty channels, and hands a connection to the channels
     * at the first request that needs more; every other listener, and every listener on epoll and NIO, on channels.
     */
    AUTO,
    /** Every connection on Netty channels, as before the raw front existed: the way back should it misbehave. */
    CHANNELS
}
