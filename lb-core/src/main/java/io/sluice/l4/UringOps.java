package io.sluice.l4;

import io.netty.channel.IoRegistration;
import io.netty.channel.uring.IoUringIoOps;
import io.netty.util.internal.PlatformDependent;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/** The io_uring operations the raw TCP relay submits, by their Linux numbers, and the socket addresses they take. */
public final class UringOps {
    public static final byte POLL_ADD = 6;
    static final byte ACCEPT = 13;
    public static final byte ASYNC_CANCEL = 14;
    static final byte CONNECT = 16;
    public static final byte SEND = 26;
    public static final byte RECV = 27;

    static final short ACCEPT_MULTISHOT = 1;
    /** A multishot request stays armed while its completions carry this. */
    static final int CQE_F_MORE = 1 << 1;
    static final int SOCK_NONBLOCK = 0x800;
    static final int SOCK_CLOEXEC = 0x80000;
    /** A send to a peer that has gone fails with EPIPE instead of raising SIGPIPE. */
    public static final int MSG_NOSIGNAL = 0x4000;
    /** More follows: the kernel may hold a partial segment back, here for the FIN that the shutdown adds. */
    public static final int MSG_MORE = 0x8000;
    public static final int POLLIN = 1;
    public static final int POLLOUT = 4;
    public static final int POLLHUP = 0x10;
    /** The peer sent its FIN: everything it sent before is already in the socket's receive queue. */
    public static final int POLLRDHUP = 0x2000;
    public static final int ECANCELED = -125;

    private UringOps() {
    }

    /** Submits the operation; returns its user data, which names it to an {@link #ASYNC_CANCEL}. */
    public static long submit(IoRegistration r, byte op, int fd, long addr, int len, int opFlags, short data) {
        return submit(r, op, (short) 0, fd, 0L, addr, len, opFlags, data);
    }

    static long submit(IoRegistration r, byte op, short ioPrio, int fd, long union1, long addr, int len, int opFlags,
                       short data) {
        return r.submit(new IoUringIoOps(op, (byte) 0, ioPrio, fd, union1, addr, len, opFlags, data, (short) 0, (short) 0, 0,
                0L));
    }

    /**
     * Servers' addresses as {@code sockaddr_in}/{@code sockaddr_in6}, made once per address and event loop (the
     * kernel copies one when it takes a CONNECT, but only when the loop submits it, so it must outlive the turn).
     * Not thread-safe: one per loop.
     */
    static final class SocketAddresses {
        /** Addresses come and go with DNS: past this many, a fresh table starts and the last one is kept a while. */
        private static final int MAX = 4096;
        private Map<InetSocketAddress, ByteBuffer> now = new HashMap<>();
        @SuppressWarnings("unused") // keeps a retired table's buffers alive for a CONNECT not yet submitted
        private Map<InetSocketAddress, ByteBuffer> retired;

        /** The address's sockaddr: its memory address and, in {@link #length}, its size. */
        ByteBuffer of(InetSocketAddress a) {
            ByteBuffer b = now.get(a);
            if (b == null) {
                if (now.size() >= MAX) {
                    retired = now;
                    now = new HashMap<>();
                }
                b = encode(a);
                now.put(a, b);
            }
            return b;
        }

        static long address(ByteBuffer b) {
            return PlatformDependent.directBufferAddress(b);
        }

        static int length(ByteBuffer b) {
            return b.capacity();
        }

        private static ByteBuffer encode(InetSocketAddress a) {
            byte[] ip = a.getAddress().getAddress();
            boolean v6 = a.getAddress() instanceof Inet6Address;
            ByteBuffer b = ByteBuffer.allocateDirect(v6 ? 28 : 16).order(ByteOrder.nativeOrder());
            b.putShort(0, (short) (v6 ? 10 : 2)); // AF_INET6 / AF_INET, in host order
            b.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) a.getPort());
            if (v6) {
                b.put(8, ip); // after sin6_flowinfo, left 0
                b.order(ByteOrder.nativeOrder()).putInt(24, ((Inet6Address) a.getAddress()).getScopeId());
            } else {
                b.put(4, ip);
            }
            return b;
        }
    }
}
