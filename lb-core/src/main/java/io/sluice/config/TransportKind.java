package io.sluice.config;

/** Netty transport for the whole process. AUTO takes io_uring where the kernel has it, NIO elsewhere. */
public enum TransportKind {
    AUTO, EPOLL, IO_URING, NIO
}
