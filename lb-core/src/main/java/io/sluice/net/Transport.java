package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.uring.IoUringDatagramChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.sluice.config.TransportKind;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport of the process: event-loop factory and channel classes that belong together. Every
 * channel of one process uses the same transport, so a backend connection can join its client's event loop.
 */
public record Transport(String name, Supplier<IoHandlerFactory> ioHandlerFactory,
                        Class<? extends ServerChannel> serverChannelClass,
                        Class<? extends Channel> channelClass,
                        Class<? extends DatagramChannel> datagramChannelClass) {

    private static final String IO_URING_MULTISHOT_POLL = "io.netty.iouring.pollAddMultishotEnabled";
    /*
     * Linux counts a task that waits in io_uring_enter with requests in flight as waiting for I/O: every event
     * loop's sleep, with a poll armed on each open connection, showed as iowait, so an idle Sluice's cores read
     * 100% iowait instead of idle (596 of 596 jiffies over 6 s on its core, kernel 6.18), which dashboards and
     * alerts on node_cpu_seconds_total{mode="iowait"} take for a disk problem. NGINX and HAProxy, on epoll, show
     * idle. IORING_ENTER_NO_IOWAIT (Linux 6.15) waits without the accounting; Netty uses it only where the kernel
     * has it, and leaves it off by default. No CPU cost or gain was measurable either way.
     */
    private static final String IO_URING_NO_IOWAIT = "io.netty.iouring.enterNoIoWaitEnabled";

    /*
     * Netty 4.2.18's io_uring transport waits for input with a multishot POLLIN. When a peer's last bytes and
     * its RST or FIN arrive while a read is in flight, the poll reports both before the read completes; the
     * read takes the bytes, the poll stays armed but never fires again, and the hang-up is never seen. A
     * backend that died mid-response left its client waiting in about one run in four
     * (HttpProxyTest#serverDyingMidResponseBreaksOnlyThatResponse). A one-shot poll is armed afresh for each
     * wait and sees the hang-up. Both settings must happen before IoUring's class initialises, hence here and
     * not in select(); an operator's own -D setting wins.
     */
    static {
        if (System.getProperty(IO_URING_MULTISHOT_POLL) == null) {
            System.setProperty(IO_URING_MULTISHOT_POLL, "false");
        }
        if (System.getProperty(IO_URING_NO_IOWAIT) == null) {
            System.setProperty(IO_URING_NO_IOWAIT, "true");
        }
    }

    /** Netty's epoll, whose channels need {@link EpollInterest}. */
    public boolean isEpoll() {
        return "epoll".equals(name);
    }

    /** Whether this machine offers the transport (AUTO and NIO always). */
    public static boolean isAvailable(TransportKind kind) {
        return switch (kind) {
            case AUTO, NIO -> true;
            case EPOLL -> Epoll.isAvailable();
            case IO_URING -> IoUring.isAvailable();
        };
    }

    /**
     * AUTO takes io_uring where the kernel offers it, then epoll (where a seccomp profile refuses io_uring, as in
     * containers), then NIO. epoll's channels keep their registration through {@link EpollInterest}: without it
     * Netty 4.2.18's epoll cut the end of a large answer to a client that half-closed (HalfCloseLargeResponseTest).
     */
    public static Transport select(TransportKind kind) {
        return switch (kind) {
            case AUTO -> {
                if (IoUring.isAvailable()) {
                    yield ioUring();
                }
                // Said once at start: the fallbacks cost more CPU, and the usual cause is one an operator can change.
                boolean epoll = Epoll.isAvailable();
                LoggerFactory.getLogger(Transport.class).info("transport auto: io_uring is not available here ({});"
                        + " using {}. In a container the default seccomp profile refuses io_uring: see the README's"
                        + " Docker section", IoUring.unavailabilityCause().toString(), epoll ? "epoll" : "nio");
                yield epoll ? epoll() : nio();
            }
            case EPOLL -> {
                if (!Epoll.isAvailable()) {
                    throw new IllegalStateException("transport epoll is not available here: "
                            + Epoll.unavailabilityCause());
                }
                yield epoll();
            }
            case IO_URING -> {
                if (!IoUring.isAvailable()) {
                    throw new IllegalStateException("transport io_uring is not available here: "
                            + IoUring.unavailabilityCause());
                }
                yield ioUring();
            }
            case NIO -> nio();
        };
    }

    private static Transport epoll() {
        return new Transport("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class,
                EpollSocketChannel.class, EpollDatagramChannel.class);
    }

    private static Transport ioUring() {
        if (IoUring.isPollAddMultishotEnabled() && !"true".equals(System.getProperty(IO_URING_MULTISHOT_POLL))) {
            // Something loaded IoUring before this class could switch multishot polls off.
            LoggerFactory.getLogger(Transport.class).warn("io_uring multishot polls are on ({} was not set in time):"
                    + " a peer's reset right after its last bytes can go unseen", IO_URING_MULTISHOT_POLL);
        }
        return new Transport("io_uring",
                () -> IoUringLoopTimer.wrap(EarlySubmit.wrap(IoUringRecvRing.handlerFactory())),
                IoUringServerSocketChannel.class,
                IoUringSocketChannel.class, IoUringDatagramChannel.class);
    }

    private static Transport nio() {
        if (Boolean.getBoolean("java.net.preferIPv4Stack")) {
            return new Transport("nio", NioIoHandler::newFactory, Ipv4NioChannels.Server.class,
                    Ipv4NioChannels.Client.class, NioDatagramChannel.class);
        }
        return new Transport("nio", NioIoHandler::newFactory, NioServerSocketChannel.class, NioSocketChannel.class,
                NioDatagramChannel.class);
    }

    /**
     * Whether several datagram sockets can share one address (SO_REUSEPORT), so that one UDP listener reads on
     * every event loop; Netty's NIO transport cannot set it.
     */
    public boolean reusePort() {
        return !name.equals("nio");
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, LoopTime.threadFactory(threadPrefix),
                LoopGuard.guard(HeavySteps.pace(ioHandlerFactory.get())));
    }
}
