package io.sluice.udp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;

/** A flow's socket as a Netty datagram channel (epoll, NIO, and io_uring where the bare socket is not available). */
record ChannelFlowSocket(Channel channel) implements FlowSocket {
    @Override
    public boolean writable() {
        return channel.isWritable();
    }

    @Override
    public void write(ByteBuf datagram) {
        channel.write(datagram, channel.voidPromise());
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public void end() {
        channel.close();
    }
}
