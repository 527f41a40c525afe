package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.sluice.config.ProxyProtocolVersion;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * Writes the PROXY protocol header ({@code clusters[].send_proxy_protocol}) that opens a connection to a server:
 * the client as {@link ClientSource} knows it (a header Sluice read itself included) and the listener address it
 * connected to. Written first, before any byte of the client's.
 */
public final class ProxyHeaderOut {
    private static final String ENCODER = "proxy-header-out";

    private ProxyHeaderOut() {
    }

    /** Writes (without flushing) the header on {@code server}, from {@code client}'s event loop. */
    public static void write(Channel server, Channel client, ProxyProtocolVersion version) {
        HAProxyProtocolVersion v = version == ProxyProtocolVersion.V1 ? HAProxyProtocolVersion.V1
                : HAProxyProtocolVersion.V2;
        ChannelPipeline p = server.pipeline();
        // The shared encoder turns the message into bytes within this write, so it can leave at once.
        p.addFirst(ENCODER, HAProxyMessageEncoder.INSTANCE);
        try {
            server.write(message(v, ClientSource.of(client),
                    client.localAddress() instanceof InetSocketAddress a ? a : null), server.voidPromise());
        } finally {
            p.remove(ENCODER);
        }
    }

    static HAProxyMessage message(HAProxyProtocolVersion v, InetSocketAddress source, InetSocketAddress destination) {
        if (source == null || destination == null || source.getAddress() == null
                || destination.getAddress() == null) {
            // Not an IP client: the header says so, and the server uses the connection's own addresses.
            return v == HAProxyProtocolVersion.V1
                    ? new HAProxyMessage(v, HAProxyCommand.PROXY, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0)
                    : new HAProxyMessage(v, HAProxyCommand.LOCAL, HAProxyProxiedProtocol.UNKNOWN, null, null, 0, 0);
        }
        boolean v6 = source.getAddress() instanceof Inet6Address || destination.getAddress() instanceof Inet6Address;
        return new HAProxyMessage(v, HAProxyCommand.PROXY, v6 ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4,
                text(source, v6), text(destination, v6), source.getPort(), destination.getPort());
    }

    /** One family for both ends: an IPv4 address beside an IPv6 one is written IPv4-mapped. */
    private static String text(InetSocketAddress a, boolean v6) {
        String s = a.getAddress().getHostAddress();
        if (v6 && a.getAddress() instanceof Inet4Address) {
            return "::ffff:" + s;
        }
        int zone = s.indexOf('%');
        return zone < 0 ? s : s.substring(0, zone);
    }
}
