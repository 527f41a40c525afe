package io.sluice.net;

import io.netty.channel.socket.SocketProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.nio.channels.spi.SelectorProvider;

/**
 * NIO channels that open IPv4 sockets, for a process that chose IPv4 ({@code java.net.preferIPv4Stack=true}, set
 * by {@code sluice run} for a config of IPv4 literals only). The JDK reads that property once, when its network
 * library loads, and reading the config file loads it first; so without these NIO kept opening IPv6 dual-stack
 * sockets (a listener on {@code 0.0.0.0} logged as {@code 0:0:0:0:0:0:0:0}), while the native transports, which
 * read the property later, opened IPv4 ones. NIO is what runs in a container, whose default seccomp profile
 * refuses io_uring. Public, with no-argument constructors: Netty makes channels from their class. UDP sockets stay
 * dual-stack on NIO (Netty's {@code NioDatagramChannel} is final); they reach IPv4 peers all the same.
 */
public final class Ipv4NioChannels {
    private Ipv4NioChannels() {
    }

    /** A listener's socket; the connections it accepts are IPv4 too. */
    public static final class Server extends NioServerSocketChannel {
        public Server() {
            super(SelectorProvider.provider(), SocketProtocolFamily.INET);
        }
    }

    /** A connection to a server (relay, pool, health check). */
    public static final class Client extends NioSocketChannel {
        public Client() {
            super(SelectorProvider.provider(), SocketProtocolFamily.INET);
        }
    }
}
