package io.sluice.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * Sits right behind a server connection's SslHandler until the handshake is done, so that the handlers behind
 * it (a relay towards the client, an HTTP pool's handler) never see a failed handshake as their own error or
 * close: the connect future carries that failure, and the caller may still try another server for its client.
 * Removed once the handshake succeeds.
 */
final class HandshakeGate extends ChannelInboundHandlerAdapter {

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                ctx.pipeline().remove(this);
                ctx.fireUserEventTriggered(evt);
            }
        } else if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close(); // the server hung up mid-handshake: the SslHandler fails the handshake as the channel closes
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        // Swallowed: the handshake future (failed with the reason) speaks for this connection.
    }
}
