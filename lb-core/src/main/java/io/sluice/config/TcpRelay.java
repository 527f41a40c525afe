package io.sluice.config;

/** {@code runtime.tcp_relay}: how TCP listeners move bytes between a client and its server. */
public enum TcpRelay {
    /**
     * On io_uring, plain connections (no TLS offload, PROXY header, SNI routing or splice, to a cluster without
     * TLS or a PROXY header) are relayed on io_uring operations without Netty channels; the rest, and every
     * connection on epoll and NIO, on channels.
     */
    AUTO,
    /** Every connection on Netty channels, as before the raw relay existed: the way back should it misbehave. */
    CHANNELS
}
