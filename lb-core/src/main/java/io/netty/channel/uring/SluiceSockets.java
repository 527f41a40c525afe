package io.netty.channel.uring;

import io.netty.channel.Channel;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import io.netty.channel.unix.NativeInetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * What Sluice's io_uring TCP relay needs from Netty's native transport that it keeps package-private or private:
 * a socket of either family, a channel made around a socket accepted without a server channel, and the socket
 * calls on a bare descriptor. Sluice accepts TCP connections with its own multishot ACCEPT and relays the plain
 * ones without channels; a connection that needs Netty's pipeline (TLS, SNI routing, a PROXY header) is adopted
 * here, as Netty's own server channel would make it.
 *
 * <p>Why the bare-descriptor calls: a Netty {@link Socket} asks the kernel for its family (a getsockname) when it is
 * made, two per relayed connection that the relay does not need; these reach the same native functions without
 * one. In this package because there is no public way to do any of it; a Netty upgrade that changes these
 * members fails at class initialisation (the relay is then not used: see {@link #available()}), and the
 * constructors at build time.
 */
public final class SluiceSockets {
    private static final MethodHandle NEW_STREAM_FD;
    private static final MethodHandle SHUTDOWN;
    private static final MethodHandle SET_TCP_NODELAY;
    private static final MethodHandle SET_KEEPALIVE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle REMOTE_ADDRESS;
    private static final Throwable UNAVAILABLE;
    /** A channel's io_uring state and read request (private in Netty), for {@link #reads}; null when not found. */
    private static final VarHandle IO_STATE;
    private static final VarHandle READ_PENDING;
    private static final int READ_SCHEDULED;

    static {
        VarHandle ioState = null;
        VarHandle readPending = null;
        int readScheduled = 0;
        try {
            MethodHandles.Lookup channel = MethodHandles.privateLookupIn(AbstractIoUringChannel.class,
                    MethodHandles.lookup());
            ioState = channel.findVarHandle(AbstractIoUringChannel.class, "ioState", byte.class);
            readPending = channel.findVarHandle(AbstractIoUringChannel.class, "readPending", boolean.class);
            readScheduled = (int) channel.findStaticVarHandle(AbstractIoUringChannel.class, "READ_SCHEDULED",
                    int.class).get();
        } catch (ReflectiveOperationException | RuntimeException e) {
            ioState = null;
        }
        IO_STATE = ioState;
        READ_PENDING = readPending;
        READ_SCHEDULED = readScheduled;
    }

    static {
        MethodHandle newFd = null;
        MethodHandle shutdown = null;
        MethodHandle noDelay = null;
        MethodHandle keepAlive = null;
        MethodHandle close = null;
        MethodHandle remote = null;
        Throwable cause = null;
        try {
            MethodHandles.Lookup socket = MethodHandles.privateLookupIn(Socket.class, MethodHandles.lookup());
            newFd = socket.findStatic(Socket.class, "newSocketStreamFd", MethodType.methodType(int.class, boolean.class));
            shutdown = socket.findStatic(Socket.class, "shutdown",
                    MethodType.methodType(int.class, int.class, boolean.class, boolean.class));
            noDelay = socket.findStatic(Socket.class, "setTcpNoDelay",
                    MethodType.methodType(void.class, int.class, int.class));
            keepAlive = socket.findStatic(Socket.class, "setKeepAlive",
                    MethodType.methodType(void.class, int.class, int.class));
            remote = socket.findStatic(Socket.class, "remoteAddress", MethodType.methodType(byte[].class, int.class));
            MethodHandles.Lookup fd = MethodHandles.privateLookupIn(FileDescriptor.class, MethodHandles.lookup());
            close = fd.findStatic(FileDescriptor.class, "close", MethodType.methodType(int.class, int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            cause = e;
        }
        NEW_STREAM_FD = newFd;
        SHUTDOWN = shutdown;
        SET_TCP_NODELAY = noDelay;
        SET_KEEPALIVE = keepAlive;
        CLOSE = close;
        REMOTE_ADDRESS = remote;
        UNAVAILABLE = cause;
    }

    private SluiceSockets() {
    }

    /** Null when the calls on bare descriptors work with this Netty, else why not. */
    public static Throwable unavailability() {
        return UNAVAILABLE;
    }

    /** A non-blocking, close-on-exec TCP socket: IPv6 (dual-stack) or IPv4. */
    public static Socket newStreamSocket(boolean ipv6) {
        return LinuxSocket.newSocketStream(ipv6);
    }

    /** A channel for the accepted, connected socket {@code fd}, not yet registered; it owns {@code fd} from now. */
    public static Channel adopt(int fd, SocketAddress remote) {
        return new IoUringSocketChannel(null, new LinuxSocket(fd), remote);
    }

    /**
     * A TCP socket for a server connection, as a bare descriptor: non-blocking, close-on-exec, TCP_NODELAY and
     * SO_KEEPALIVE on, of the server address's family.
     */
    public static int newServerSocket(boolean ipv6) throws IOException {
        int fd;
        try {
            fd = (int) NEW_STREAM_FD.invokeExact(ipv6);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (fd < 0) {
            throw Errors.newIOException("socket", fd);
        }
        try {
            SET_TCP_NODELAY.invokeExact(fd, 1);
            SET_KEEPALIVE.invokeExact(fd, 1);
        } catch (Throwable t) {
            close(fd);
            throw rethrow(t);
        }
        return fd;
    }

    /**
     * A non-blocking, close-on-exec UDP socket connected to {@code server} (a datagram socket's connect only sets its
     * peer: nothing goes on the wire), as a bare descriptor; the caller closes it.
     */
    public static int newConnectedDatagramSocket(InetSocketAddress server) throws IOException {
        LinuxSocket s = LinuxSocket.newSocketDgram(server.getAddress() instanceof java.net.Inet6Address);
        try {
            s.connect(server);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s.intValue();
    }

    /** shutdown(2): 0, or a negative errno (a socket not connected, say). */
    public static int shutdown(int fd, boolean read, boolean write) {
        try {
            return (int) SHUTDOWN.invokeExact(fd, read, write);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * The peer's address of the connected socket {@code fd} (getpeername(2)), or null when it has none (gone
     * already). A {@link Socket} made for the call would first ask for the socket's family (getsockname(2)).
     */
    public static InetSocketAddress remoteAddress(int fd) {
        byte[] a;
        try {
            a = (byte[]) REMOTE_ADDRESS.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return a == null ? null : NativeInetAddress.address(a, 0, a.length);
    }

    /**
     * Whether Sluice can tell when Netty reads {@code ch}'s socket ({@link #reads}): an io_uring socket channel of
     * this Netty. Sluice splices a large response body from a server connection's socket only then.
     */
    public static boolean readsVisible(Channel ch) {
        return IO_STATE != null && ch instanceof AbstractIoUringChannel;
    }

    /**
     * Whether Netty has a receive on {@code ch}'s socket in the kernel, or is about to submit one (a read was asked
     * for, or the peer's FIN was seen, which makes Netty read on its own): bytes taken from the socket outside
     * Netty from then on could overtake the ones it reads. Only when {@link #readsVisible}; on the channel's loop.
     */
    public static boolean reads(Channel ch) {
        AbstractIoUringChannel c = (AbstractIoUringChannel) ch;
        return ((byte) IO_STATE.get(c) & READ_SCHEDULED) != 0 || (boolean) READ_PENDING.get(c);
    }

    /** close(2), errors ignored: the descriptor is gone either way. */
    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof IOException io) {
            throw new java.io.UncheckedIOException(io);
        }
        throw new IllegalStateException(t);
    }
}
