package io.sluice.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.sluice.cluster.Server;
import io.sluice.net.Admission;
import io.sluice.net.UpstreamAttempts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The flows of one listener socket, by client address, on that socket's event loop (SO_REUSEPORT sends a client's
 * datagrams to one socket, so to one table): plain maps, no locks. Reads client datagrams, starts flows, and flushes
 * once per read batch in either direction.
 */
final class FlowTable extends ChannelInboundHandlerAdapter {
    private final UdpListener listener;
    private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
    /** Flows written to during the current read batch, flushed at its end. */
    private final List<Flow> unflushed = new ArrayList<>();
    private Channel channel;
    private Bootstrap upstream;
    private int upstreamSize;
    private ChannelFactory<? extends Channel> upstreamSockets;
    private boolean frontUnflushed;
    /** The settings this socket's new flows are made with (the listener's, read at each new flow). */
    private UdpListener.Settings settings;

    FlowTable(UdpListener listener) {
        this.listener = listener;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof DatagramPacket packet)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        InetSocketAddress client = packet.sender();
        ByteBuf content = packet.content();
        stats().received(content.readableBytes());
        if (listener.clientLimits().request(client.getAddress()) > 0) {
            stats().dropped(UdpStats.Drop.LIMITED); // counted as limited too, by the limits
            content.release();
            return;
        }
        Flow flow = flows.get(client);
        if (flow != null && flow.serverGone()) {
            // The next datagram of a flow whose server went down or away starts a new flow on an available one.
            flow.close();
            flow = null;
        }
        if (flow == null) {
            flow = open(client);
            if (flow == null) {
                content.release();
                return;
            }
        }
        if (flow.fromClient(content)) {
            unflushed.add(flow);
        }
    }

    private Flow open(InetSocketAddress client) {
        settings = listener.settings();
        if (!stats().openFlow(settings.udp().maxFlows())) {
            stats().dropped(UdpStats.Drop.FLOW_LIMIT);
            return null;
        }
        Runnable clientCount = listener.clientLimits().openFlow(client.getAddress());
        if (clientCount == null) {
            stats().closeFlow();
            stats().dropped(UdpStats.Drop.LIMITED);
            return null;
        }
        UpstreamAttempts pick = new UpstreamAttempts(client);
        pick.begin(settings.cluster());
        Server server = pick.next();
        if (server == null) {
            clientCount.run();
            stats().closeFlow();
            stats().dropped(UdpStats.Drop.NO_SERVER);
            listener.stats().countNoServer();
            return null;
        }
        Flow flow = new Flow(this, settings.cluster(), client, server.beginConnection(), clientCount,
                settings.udp().idleTimeout().toNanos(), settings.udp().responsesPerRequest());
        flows.put(client, flow);
        if (listener.bareFlowSockets(channel)) {
            return openBare(flow, server) ? flow : null;
        }
        var connect = bootstrap().clone().handler(new ServerDatagrams(flow)).connect(server.resolved());
        if (!flow.opening(connect)) {
            return null; // no socket: the flow undid itself and counted the drop
        }
        listener.admission().admit(connect.channel());
        return flow;
    }

    /** The flow's socket as a bare io_uring one; false, the flow closed and the drop counted, when none is made. */
    private boolean openBare(Flow flow, Server server) {
        Admission admission = listener.admission();
        UringFlowSocket socket;
        try {
            socket = UringFlowSocket.open(flow, (IoEventLoop) channel.eventLoop(), listener.bareSockets(),
                    server.resolved(), channel.alloc(), settings.udp().maxDatagramSize(), admission::closed);
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            // Out of descriptors or direct memory (Netty's OutOfDirectMemoryError is an OutOfMemoryError): this
            // process's failure, not the server's; the flow is undone like any flow without a socket.
            socket = null;
        }
        if (socket == null) {
            stats().dropped(UdpStats.Drop.SOCKET_ERROR);
            flow.close();
            return false;
        }
        flow.opened(socket);
        if (!admission.open()) {
            flow.close(); // over max_connections: counted as rejected; closed() runs when the socket is gone
            return false;
        }
        return true;
    }

    private Bootstrap bootstrap() {
        int size = settings.udp().maxDatagramSize();
        ChannelFactory<? extends Channel> sockets = listener.flowSockets();
        if (upstream == null || size != upstreamSize || sockets != upstreamSockets) {
            upstreamSize = size; // a reload may change it
            upstreamSockets = sockets;
            upstream = new Bootstrap().group(channel.eventLoop()).channelFactory(sockets)
                    .option(ChannelOption.ALLOCATOR, channel.alloc())
                    .option(ChannelOption.RCVBUF_ALLOCATOR, reads(size));
        }
        return upstream;
    }

    static FixedRecvByteBufAllocator reads(int maxDatagramSize) {
        FixedRecvByteBufAllocator a = new FixedRecvByteBufAllocator(maxDatagramSize);
        a.maxMessagesPerRead(16);
        return a;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        for (int i = 0; i < unflushed.size(); i++) {
            unflushed.get(i).flush();
        }
        unflushed.clear();
        flushFront();
        ctx.fireChannelReadComplete();
    }

    /** A reply was written to the listener socket; flushed when the server socket's read batch ends. */
    void needsFlush() {
        frontUnflushed = true;
    }

    void flushFront() {
        if (frontUnflushed) {
            frontUnflushed = false;
            channel.flush();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // An ICMP error on the listening socket concerns one client; the socket serves the others on.
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeAll();
        ctx.fireChannelInactive();
    }

    /** Ends every flow of this socket; on its event loop. */
    void closeAll() {
        for (Flow f : new ArrayList<>(flows.values())) {
            f.close();
        }
    }

    void remove(Flow flow) {
        if (flows.get(flow.client) == flow) {
            flows.remove(flow.client);
        }
        unflushed.remove(flow);
        stats().closeFlow();
    }

    Channel channel() {
        return channel;
    }

    UdpStats stats() {
        return listener.udpStats();
    }
}
