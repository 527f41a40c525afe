package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sluice.cluster.LoopChannels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's child handler: puts an accepted connection in the listener's set of open ones and its handlers in its
 * pipeline, then leaves. What Netty's {@code ChannelInitializer} does, without the set of contexts being
 * initialised that it keeps against a second call (a concurrent map the listener's loops share: an add and two
 * removes per connection). A child handler is added before the channel registers, so {@code handlerAdded} runs
 * once, at registration.
 */
@ChannelHandler.Sharable
public abstract class ConnectionSetUp extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ConnectionSetUp.class);

    private final LoopChannels connections;
    /**
     * Whether accepted connections read from io_uring's provided-buffer ring, by the setting
     * {@link ChannelOptions#listener} applies to them: only those need {@link UnendedReadBatches}, and asking each
     * channel for the option costs a lookup per connection.
     */
    private final boolean ring;

    protected ConnectionSetUp(LoopChannels connections, Transport transport) {
        this.connections = connections;
        this.ring = IoUringRecvRing.setting(transport).isPresent();
    }

    /** The connection's own handlers. */
    protected abstract void setUp(Channel ch);

    @Override
    public final void handlerAdded(ChannelHandlerContext ctx) {
        Channel ch = ctx.channel();
        try {
            connections.add(ch);
            if (ring) {
                UnendedReadBatches.addTo(ch);
            }
            setUp(ch);
        } catch (Throwable e) {
            // As ChannelInitializer does: a connection half set up is closed, whatever went wrong.
            log.warn("failed to set up connection {}", ch, e);
            ctx.close();
        } finally {
            if (!ctx.isRemoved()) {
                ctx.pipeline().remove(this);
            }
        }
    }
}
