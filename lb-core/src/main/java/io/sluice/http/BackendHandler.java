package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Last handler of a backend connection: hands the server's events to the attempt that holds the connection. */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

    BackendConnection conn;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        UpstreamRequest a = conn == null ? null : conn.attempt;
        if (a == null) {
            // Bytes on an idle connection (a late 408, garbage): the next request could be mixed up with them.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        a.onResponse(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamRequest a = conn == null ? null : conn.attempt;
        if (a != null) {
            a.onReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamRequest a = conn == null ? null : conn.attempt;
        if (a != null && ctx.channel().isWritable()) {
            a.onWritable();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (conn != null) {
            conn.pool.closed(conn);
            UpstreamRequest a = conn.attempt;
            if (a != null) {
                a.onClosed();
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("backend connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
