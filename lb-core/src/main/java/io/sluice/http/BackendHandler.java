package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Last handler of a backend connection: hands responses to the exchange that owns the connection. */
final class BackendHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);

    BackendConnection conn;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Exchange ex = conn == null ? null : conn.exchange;
        if (ex == null) {
            // Bytes on an idle connection (a late 408, garbage): the next request could be mixed up with them.
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        ex.onResponse(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange ex = conn == null ? null : conn.exchange;
        if (ex != null) {
            ex.onBackendReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange ex = conn == null ? null : conn.exchange;
        if (ex != null && ctx.channel().isWritable()) {
            ex.onBackendWritable();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (conn != null) {
            conn.pool.closed(conn);
            Exchange ex = conn.exchange;
            if (ex != null) {
                ex.onBackendClosed(conn);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("backend connection {} failed: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
