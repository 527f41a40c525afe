package io.sluice.config;

/** Netty transport for the whole process. AUTO takes epoll on Linux (io_uring is opt-in), NIO elsewhere. */
public enum TransportKind {
    AUTO, EPOLL, IO_URING, NIO
}
