package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterQueue;
import io.sluice.cluster.Server;
import io.sluice.cluster.Slot;
import io.sluice.config.ProxyProtocolVersion;
import io.sluice.net.ClientSource;
import io.sluice.net.ConnectDeadline;
import io.sluice.net.ConnectionTimeouts;
import io.sluice.net.ProxyHeaderOut;
import io.sluice.net.UpstreamAttempts;
import io.sluice.net.UpstreamConnector;
import io.sluice.tls.SniPeek;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First handler of an accepted client connection: picks a server, connects to it on the client's own event
 * loop, retries on other servers when a connect fails, then hands both channels to {@link RelayHandler}s, or
 * to a {@link SpliceRelay} on a listener with {@code splice: true}. The client is not read until the server is
 * connected; only what epoll reads on a half-close meanwhile is kept (see {@link HeldBytes}).
 *
 * <p>With SNI passthrough a {@link SniPeek} sits before this handler: the client is read until its ClientHello
 * is complete, those bytes are kept here like early ones (and so reach the server first, unchanged), and the
 * peek's result chooses the cluster, and with {@code hash_key: sni} the hash, before the first pick.
 *
 * <p>With TLS offload the handshake comes first: no server is picked or connected for a client that never
 * completes one (a scanner, a plaintext client), and what it sends after is kept like early bytes.
 */
final class ClientHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ClientHandler.class);

    private final TcpListener listener;
    private final SniRoutes routes;
    private final boolean splice;
    private final boolean peek;
    private final boolean tlsOffload;
    private Cluster cluster;
    private UpstreamAttempts attempts;
    /**
     * Bytes and a FIN that arrive before the server is connected. Reading is off, but epoll still reads when
     * the client half-closes (RDHUP), so what it read is kept here and replayed once the relay is in place.
     */
    private HeldBytes early = new HeldBytes();
    /** Set while the connection waits in its cluster's queue (every eligible server at max_connections). */
    private ClusterQueue.Waiter queued;
    /** The connection's timeouts, whose clock also times the connects; null without an idle timeout. */
    private final ConnectionTimeouts timeouts;
    /** The connect timeout on that clock, made at the first connect; null: Netty's task per connect. */
    private ConnectDeadline deadline;

    ClientHandler(TcpListener listener, SniRoutes routes, boolean splice, boolean peek, boolean tlsOffload,
                  ConnectionTimeouts timeouts) {
        this.listener = listener;
        this.timeouts = timeouts;
        this.routes = routes;
        this.splice = splice;
        this.peek = peek;
        this.tlsOffload = tlsOffload;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Channel client = ctx.channel();
        if (!listener.admission().admitLast(client)) {
            return;
        }
        attempts = new UpstreamAttempts(ClientSource.of(client));
        if (peek || tlsOffload) {
            // The peek (or the TLS handler) asks for more until the ClientHello (or handshake) is complete.
            ctx.read();
            return;
        }
        start(ctx, routes.fallback().cluster(), null);
    }

    private void start(ChannelHandlerContext ctx, Cluster target, String serverName) {
        cluster = target;
        attempts.begin(target);
        if (target.hashKey() != null) {
            if (SniRoutes.hashesBySni(target)) {
                target.hashKey().applySni(attempts.context(), serverName);
            } else {
                // Other key kinds need a request: the fallback places them.
                target.hashKey().applySource(attempts.context());
            }
        }
        connect(ctx);
    }

    /** Routes by the peek's result: the ClientHello's bytes are already in {@link #early}. */
    private void peeked(ChannelHandlerContext ctx, SniPeek.Result result) {
        if (!ctx.channel().isActive()) {
            return;
        }
        SniRoutes.Target target;
        switch (result.outcome()) {
            case HELLO -> {
                String name = result.serverName();
                target = name == null ? routes.fallback() : routes.target(name);
                target.counts().count(name == null ? PassthroughStats.Result.NO_SNI : PassthroughStats.Result.ROUTED);
            }
            case NOT_TLS -> {
                if (routes.requireTls()) {
                    refuse(ctx, PassthroughStats.Result.NOT_TLS);
                    return;
                }
                target = routes.fallback();
                target.counts().count(PassthroughStats.Result.NOT_TLS);
            }
            case TIMEOUT -> {
                refuse(ctx, PassthroughStats.Result.TIMEOUT);
                return;
            }
            case MALFORMED -> {
                refuse(ctx, PassthroughStats.Result.MALFORMED);
                return;
            }
            default -> {
                ctx.close(); // the client left before its hello was complete
                return;
            }
        }
        start(ctx, target.cluster(), result.serverName());
    }

    private void refuse(ChannelHandlerContext ctx, PassthroughStats.Result why) {
        routes.refused().count(why);
        ctx.close();
    }

    private void connect(ChannelHandlerContext ctx) {
        Channel client = ctx.channel();
        Server server = attempts.next();
        if (server == null) {
            if (attempts.sawFull()) {
                waitForSlot(ctx);
                return;
            }
            listener.stats().countNoServer();
            client.close();
            return;
        }
        connect(ctx, server, attempts.takeSlot());
    }

    /**
     * Every eligible server is at its max_connections: the connection waits in the cluster's queue, and is
     * closed when the queue is full or its timeout passes (counted by the queue).
     */
    private void waitForSlot(ChannelHandlerContext ctx) {
        Channel client = ctx.channel();
        ClusterQueue.Waiter w = new ClusterQueue.Waiter(client.eventLoop(), null) {
            @Override
            protected void granted(Slot slot) {
                if (queued != this || !client.isActive()) {
                    slot.close();
                    return;
                }
                queued = null;
                connect(ctx, attempts.granted(slot), slot);
            }

            @Override
            protected void timedOut() {
                queued = null;
                client.close();
            }
        };
        if (cluster.queue().enqueue(w)) {
            queued = w;
        } else {
            client.close();
        }
    }

    /** Connects to {@code server}, whose {@code slot} this connection holds until its server side closes. */
    private void connect(ChannelHandlerContext ctx, Server server, Slot slot) {
        Channel client = ctx.channel();
        RelayHandler.HalfClose halfClose = splice ? null : new RelayHandler.HalfClose(client);
        HeldBytes serverHeld = splice ? new HeldBytes() : null;
        if (deadline == null && timeouts != null && timeouts.clock() != null) {
            deadline = new ConnectDeadline(timeouts.clock());
        }
        ChannelFuture f = UpstreamConnector.connect(listener.dialer(), client.eventLoop(),
                splice ? serverHeld : new RelayHandler(client, server.bytesReceived(), halfClose), cluster, server,
                UpstreamConnector.Use.RELAY, splice ? null : proxyHeader(client), deadline);
        listener.track(f.channel());
        f.channel().closeFuture().addListener(x -> slot.close());
        f.addListener(done -> {
            if (!client.eventLoop().inEventLoop()) {
                // A socket that could not even be created fails on Netty's global executor (Bootstrap's stand-in
                // channel has no loop): back to the client's loop, where everything below must run.
                client.eventLoop().execute(() -> connected(ctx, f, server, slot, halfClose, serverHeld));
                return;
            }
            connected(ctx, f, server, slot, halfClose, serverHeld);
        });
    }

    /** The cluster's PROXY protocol header naming {@code client}, written as a server connection opens; or null. */
    private Consumer<Channel> proxyHeader(Channel client) {
        ProxyProtocolVersion version = cluster.config().sendProxyProtocol();
        return version == null ? null : backend -> ProxyHeaderOut.write(backend, client, version);
    }

    /** The connect to {@code server} is done, one way or the other; on the client's loop. */
    private void connected(ChannelHandlerContext ctx, ChannelFuture f, Server server, Slot slot,
                           RelayHandler.HalfClose halfClose, HeldBytes serverHeld) {
        Channel client = ctx.channel();
        Channel backend = f.channel();
        if (deadline != null) {
            deadline.done();
        }
        if (!f.isSuccess()) {
            slot.close(); // a channel that was never registered never closes
            if (client.isActive() && attempts.connectFailed(server)) {
                connect(ctx);
            } else {
                listener.stats().countNoServer();
                client.close();
            }
            return;
        }
        if (!client.isActive()) {
            backend.close();
            return;
        }
        HeldBytes held = early;
        early = null;
        if (splice) {
            startSplice(ctx, backend, server, held, serverHeld);
            return;
        }
        ArrayDeque<ByteBuf> pending = held.take();
        ctx.pipeline().replace(this, "relay", new RelayHandler(backend, server.bytesSent(), halfClose));
        replayEarly(pending, held.fin(), client, backend, server, halfClose);
        RelayHandler.autoRead(client, backend.isWritable());
        RelayHandler.autoRead(backend, client.isWritable());
    }

    private void startSplice(ChannelHandlerContext ctx, Channel backend, Server server, HeldBytes clientHeld,
                             HeldBytes serverHeld) {
        ChannelPipeline p = ctx.pipeline();
        // The splice relay keeps its own idle time: the handler would see no reads or writes from now on.
        if (p.get("idle") != null) {
            p.remove("idle");
        }
        p.replace(this, "held", clientHeld);
        listener.splicer().start(ctx.channel(), clientHeld, backend, serverHeld, server.bytesSent(),
                server.bytesReceived());
    }

    private static void replayEarly(ArrayDeque<ByteBuf> pending, boolean fin, Channel client, Channel backend,
                                    Server server, RelayHandler.HalfClose halfClose) {
        if (pending != null) {
            ByteBuf b;
            while ((b = pending.poll()) != null) {
                server.bytesSent().add(b.readableBytes());
                backend.write(b, backend.voidPromise());
            }
            backend.flush();
        }
        if (fin) {
            RelayHandler.passFin(client, backend, halfClose);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        early.add(msg);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseEarly();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseEarly();
        if (queued != null) {
            cluster.queue().cancel(queued);
            queued = null;
        }
        if (deadline != null) {
            deadline.outliveClient();
        }
        ctx.fireChannelInactive();
    }

    private void releaseEarly() {
        if (early != null) {
            early.release();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SniPeek.Result result) {
            peeked(ctx, result);
        } else if (evt instanceof SslHandshakeCompletionEvent handshake && tlsOffload && cluster == null) {
            if (handshake.isSuccess() && ctx.channel().isActive()) {
                start(ctx, routes.fallback().cluster(), null);
            } else {
                ctx.close(); // counted by the handshake observer
            }
        } else if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else if (evt instanceof ChannelInputShutdownEvent) {
            early.markFin();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client error before relay on {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }
}
