package io.sluice.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts one connection's handshake by version or by failure reason, then leaves the pipeline, with
 * {@link HandshakeTurn}: after the handshake both would only pass messages on. A failed handshake costs
 * that connection alone: the SslHandler closes it, and the handlers behind see the exception and nothing else.
 */
final class HandshakeObserver extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(HandshakeObserver.class);

    private final String listener;
    private final TlsStats stats;

    HandshakeObserver(String listener, TlsStats stats) {
        this.listener = listener;
        this.stats = stats;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                stats.succeeded(ssl == null ? TlsStats.NO_VERSION : ssl.engine().getSession().getProtocol());
            } else {
                HandshakeFailure reason = HandshakeFailure.of(done.cause());
                stats.failed(reason);
                log.debug("listener {}: TLS handshake with {} failed ({}): {}", listener, ctx.channel().remoteAddress(),
                        reason.label(), done.cause().toString());
            }
            leave(ctx);
        } else if (evt instanceof SniCompletionEvent sni && !sni.isSuccess()) {
            // No whole ClientHello in time (or a broken one): the SNI stage fails before any handshake starts.
            HandshakeFailure reason = HandshakeFailure.of(sni.cause());
            stats.failed(reason);
            log.debug("listener {}: no usable ClientHello from {} ({}): {}", listener, ctx.channel().remoteAddress(),
                    reason.label(), sni.cause().toString());
            leave(ctx);
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void leave(ChannelHandlerContext ctx) {
        if (ctx.pipeline().context(HandshakeTurn.NAME) != null) {
            ctx.pipeline().remove(HandshakeTurn.NAME);
        }
        ctx.pipeline().remove(this);
    }

    /** Gone before any handshake outcome: the client closed while the ClientHello was awaited. */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stats.failed(HandshakeFailure.CLOSED);
        ctx.fireChannelInactive();
    }
}
