package io.sluice.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.sluice.config.HostPort;
import java.net.InetSocketAddress;

/**
 * A listener's bound socket, which can let go of its address and bind it again (a reload that moves another
 * listener onto it, then fails, gives it back). Opened and closed on the starting or control thread.
 */
public final class ListeningSocket {
    private final boolean delayFirstAck;
    private volatile Channel channel;

    /** @param delayFirstAck whether accepted connections acknowledge a first request with its response ({@link FirstAckDelay}) */
    public ListeningSocket(boolean delayFirstAck) {
        this.delayFirstAck = delayFirstAck;
    }

    /**
     * Binds {@code address}; blocks the calling (non event-loop) thread until bound or failed. Fails, closing the
     * socket, if the connections it accepts would not have SO_KEEPALIVE (a native listener passes it on to them:
     * Netty only logs an option it could not set).
     */
    public void bind(ServerBootstrap bootstrap, HostPort address) throws InterruptedException {
        Channel bound = bootstrap.bind(address.toBindAddress()).sync().channel();
        boolean keepAlive = false;
        try {
            keepAlive = ChannelOptions.acceptedKeepAlive(bound);
        } finally {
            if (!keepAlive) {
                // Unreachable from close() otherwise: not yet this object's channel.
                bound.close().syncUninterruptibly();
            }
        }
        if (!keepAlive) {
            throw new IllegalStateException("listening socket " + address + ": SO_KEEPALIVE did not take, so"
                    + " accepted connections would not have it");
        }
        if (delayFirstAck) {
            FirstAckDelay.applyTo(bound);
        }
        channel = bound;
    }

    /** Closes the socket (its accept queue with it); connections accepted before are not touched. */
    public void close() {
        Channel c = channel;
        if (c != null) {
            c.close().syncUninterruptibly();
        }
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) channel.localAddress();
    }

    public boolean bound() {
        Channel c = channel;
        return c != null && c.isActive();
    }
}
