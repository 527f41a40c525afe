package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/**
 * On a TLS listener, waits for the handshake and installs the protocol ALPN chose: h2, or HTTP/1.1 for
 * clients that chose it or offered nothing. A failed handshake closes the connection (the TLS handler has
 * counted why).
 */
final class AlpnSwitch extends ApplicationProtocolNegotiationHandler {
    private final FrontProtocols protocols;

    AlpnSwitch(FrontProtocols protocols) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.protocols = protocols;
    }

    /** The listener reads on demand (autoRead off): the first read starts the handshake; TLS asks for the rest. */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        ctx.read();
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
        protocols.configure(ctx.pipeline(), protocol);
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
