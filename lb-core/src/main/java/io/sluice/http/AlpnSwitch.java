package io.sluice.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.sluice.net.Admission;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On a TLS listener, waits for the handshake and installs the protocol ALPN chose: h2, or HTTP/1.1 for
 * clients that chose it or offered nothing. A failed handshake closes the connection (the TLS handler has
 * counted why).
 */
final class AlpnSwitch extends ApplicationProtocolNegotiationHandler {
    private static final Logger log = LoggerFactory.getLogger(AlpnSwitch.class);

    private final FrontProtocols protocols;
    private final Admission admission;

    AlpnSwitch(FrontProtocols protocols, Admission admission) {
        super(ApplicationProtocolNames.HTTP_1_1);
        this.protocols = protocols;
        this.admission = admission;
    }

    /**
     * Admits the connection before its handshake, so that max_connections and the listener's counts cover
     * clients that are still handshaking (or never finish). The listener reads on demand (autoRead off): the
     * first read starts the handshake; TLS asks for the rest.
     */
    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        if (!admission.admit(ctx.channel())) {
            return;
        }
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

    /**
     * A client can cause errors before the protocol is known (a reset mid-handshake, an oversized hello): the
     * TLS handlers have counted them, and a warning with a stack trace per connection would let any client
     * flood the log.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client error before ALPN on {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
