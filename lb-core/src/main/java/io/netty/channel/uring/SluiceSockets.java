package io.netty.channel.uring;

import io.netty.channel.Channel;
import io.netty.channel.unix.Socket;
import java.net.SocketAddress;

/**
 * The two things Sluice's io_uring TCP relay needs from Netty's io_uring transport that it keeps package-private:
 * a socket of either family, and a channel made around a socket accepted without a server channel. Sluice accepts
 * TCP connections with its own multishot ACCEPT and relays the plain ones without channels; a connection that
 * needs Netty's pipeline (TLS, SNI routing, a PROXY header) is adopted here, as Netty's own server channel would
 * make it. In this package because there is no public way to do either; a Netty upgrade that changes these
 * constructors fails the build here, not at run time.
 */
public final class SluiceSockets {
    private SluiceSockets() {
    }

    /** A non-blocking, close-on-exec TCP socket: IPv6 (dual-stack) or IPv4. */
    public static Socket newStreamSocket(boolean ipv6) {
        return LinuxSocket.newSocketStream(ipv6);
    }

    /** A channel for the accepted, connected socket {@code fd}, not yet registered; it owns {@code fd} from now. */
    public static Channel adopt(int fd, SocketAddress remote) {
        return new IoUringSocketChannel(null, new LinuxSocket(fd), remote);
    }
}
