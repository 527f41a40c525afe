package io.sluice.udp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import java.net.PortUnreachableException;

/** Reads a flow's server socket: each datagram goes to the flow, an ICMP error ends it. */
final class ServerDatagrams extends ChannelInboundHandlerAdapter {
    private final Flow flow;

    ServerDatagrams(Flow flow) {
        this.flow = flow;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof DatagramPacket p) {
            flow.fromServer(p.content());
        } else if (msg instanceof ByteBuf b) {
            flow.fromServer(b);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flow.flushFront();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // Port unreachable: nothing listens there (any more). The flow ends; the client's next datagram opens
        // another, and the failure counts toward outlier detection.
        if (cause instanceof PortUnreachableException) {
            flow.serverUnreachable();
        }
        flow.close();
    }
}
