package io.sluice.udp;

import io.netty.buffer.ByteBuf;

/**
 * A flow's socket to its server: a Netty datagram channel ({@link ChannelFlowSocket}), or on io_uring a bare
 * connected socket driven by the flow's loop ({@link UringFlowSocket}). Used on that loop only.
 */
interface FlowSocket {
    /** Whether a datagram written now would be sent rather than dropped. */
    boolean writable();

    /** Sends {@code datagram} to the server; the socket owns it from here on and releases it once. */
    void write(ByteBuf datagram);

    /** Sends what {@link #write} queued, where writes are queued. */
    void flush();

    /** Closes the socket; datagrams in flight to it are dropped. Idempotent. */
    void end();
}
