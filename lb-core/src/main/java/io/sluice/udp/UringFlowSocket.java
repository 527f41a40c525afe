package io.sluice.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.Errors;
import io.netty.channel.uring.IoUringIoEvent;
import io.netty.channel.uring.IoUringIoHandle;
import io.netty.channel.uring.SluiceSockets;
import io.sluice.cluster.LoopChannels;
import io.sluice.l4.UringOps;
import java.io.IOException;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A flow's socket to its server on io_uring without a Netty channel: a connected datagram socket, one {@code RECV}
 * waiting in the kernel at a time, one {@code SEND} per datagram. Netty 4.2.18's io_uring datagram channel sets up two
 * arrays of 256 message headers (about 116 KiB of direct memory and 2,000 allocations) for every socket, which
 * made a flow per DNS query cost more than the query; a connected socket needs no message headers at all.
 *
 * <p>On the flow's loop only. The descriptor is closed, and the receive buffer given back, only once every operation
 * submitted on it has completed: the kernel may write into the buffer until then.
 */
final class UringFlowSocket implements FlowSocket, IoUringIoHandle, LoopChannels.Member {
    private static final Logger log = LoggerFactory.getLogger(UringFlowSocket.class);
    /**
     * Datagrams on their way to the server at once; more are dropped as a full channel drops them. A send completes
     * in the loop's next pass at the earliest, and the listener socket can bring a flow 16 datagrams per read batch:
     * room for bursts, while bounding the buffers one flow holds (a channel held up to its 64 KiB write mark).
     */
    static final int MAX_SENDS = 64;
    private static final short RECV = 0x100;
    private static final short SEND = 0x200; // | the slot in sending
    private static final short CANCEL = 0x300;
    private static final short KIND = 0x7f00;
    private static final int ECONNREFUSED = Errors.ERROR_ECONNREFUSED_NEGATIVE;

    enum State { OPEN, CLOSING, CLOSED }

    private final Flow flow;
    private final IoEventLoop loop;
    private final int fd;
    private final ByteBufAllocator allocator;
    private final int datagramSize;
    private final Runnable closed;
    private IoRegistration registration;
    private State state = State.OPEN;
    private ByteBuf receiving;
    private long recvId;
    private final ByteBuf[] sending = new ByteBuf[MAX_SENDS];
    private int sendCount;
    private int inFlight;

    private UringFlowSocket(Flow flow, IoEventLoop loop, int fd, ByteBufAllocator allocator, int datagramSize,
                            Runnable closed) {
        this.flow = flow;
        this.loop = loop;
        this.fd = fd;
        this.allocator = allocator;
        this.datagramSize = datagramSize;
        this.closed = closed;
    }

    /**
     * A socket connected to {@code server} and reading, registered with {@code loop} (the caller's, which must be an
     * io_uring loop); null when the loop refuses it (shutting down). {@code closed} runs once, after the descriptor is
     * closed. Throws when no socket can be made (out of descriptors, no route).
     */
    static UringFlowSocket open(Flow flow, IoEventLoop loop, UdpListener.BareSockets sockets, InetSocketAddress server,
                                ByteBufAllocator allocator, int datagramSize, Runnable closed) throws IOException {
        int fd = sockets.connectedTo(server);
        UringFlowSocket s = new UringFlowSocket(flow, loop, fd, allocator, datagramSize, closed);
        s.registration = loop.register(s).getNow();
        if (s.registration == null) {
            SluiceSockets.close(fd);
            return null;
        }
        try {
            s.receive();
        } catch (RuntimeException | OutOfMemoryError e) {
            // No buffer for the first receive (direct memory at its limit), or no room to submit it: nothing is
            // in the kernel, and receive() gave its buffer back.
            s.registration.cancel();
            SluiceSockets.close(fd);
            throw e;
        }
        return s;
    }

    /** A receive waiting in the kernel; on failure nothing is submitted and nothing held. */
    private void receive() {
        ByteBuf b = allocator.directBuffer(datagramSize, datagramSize);
        try {
            recvId = submit(UringOps.RECV, b.memoryAddress(), datagramSize, RECV);
        } catch (RuntimeException e) {
            b.release();
            throw e;
        }
        receiving = b;
    }

    /**
     * Submits an operation and counts it in flight; throws, counting nothing, when it cannot be submitted (the
     * submission queue full and the kernel taking none, or the registration gone), so no completion is awaited
     * that will never come.
     */
    private long submit(byte op, long addr, int len, short data) {
        // A cancel names its target by user data; its descriptor field is unused.
        long id = UringOps.submit(registration, op, op == UringOps.ASYNC_CANCEL ? -1 : fd, addr, len, 0, data);
        if (id == 0) {
            throw new IllegalStateException("flow socket's registration is no longer valid");
        }
        inFlight++;
        return id;
    }

    @Override
    public boolean writable() {
        return state == State.OPEN && sendCount < MAX_SENDS;
    }

    @Override
    public void write(ByteBuf datagram) {
        if (!writable()) {
            datagram.release();
            return;
        }
        ByteBuf d = datagram;
        if (!d.hasMemoryAddress()) {
            // The kernel reads the datagram from its address: a heap buffer is copied (a listener on io_uring
            // reads into direct buffers, so this is for what another path may hand over).
            try {
                d = allocator.directBuffer(datagram.readableBytes()).writeBytes(datagram);
            } finally {
                datagram.release();
            }
        }
        int slot = 0;
        while (sending[slot] != null) {
            slot++;
        }
        try {
            submit(UringOps.SEND, d.memoryAddress() + d.readerIndex(), d.readableBytes(), (short) (SEND | slot));
        } catch (RuntimeException e) {
            d.release(); // not in the kernel: the datagram is dropped here
            throw e;
        }
        sending[slot] = d;
        sendCount++;
    }

    @Override
    public void flush() {
        // Each write is submitted as it comes; the loop hands the pass's submissions to the kernel together.
    }

    @Override
    public void end() {
        if (state != State.OPEN) {
            return;
        }
        state = State.CLOSING;
        if (receiving != null) {
            try {
                submit(UringOps.ASYNC_CANCEL, recvId, 0, CANCEL);
            } catch (RuntimeException e) {
                // No room for the cancel: a shut-down socket ends the waiting receive just as well.
                SluiceSockets.shutdown(fd, true, true);
            }
        }
        finishIfDone();
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        try {
            handle((IoUringIoEvent) event);
        } catch (Throwable t) {
            log.warn("flow socket failed, closing its flow", t);
            flow.close();
            finishIfDone();
        }
    }

    private void handle(IoUringIoEvent e) {
        inFlight--;
        int res = e.res();
        switch (e.data() & KIND) {
            case RECV -> received(res);
            case SEND -> sent(e.data() & ~KIND, res);
            default -> { } // the cancel's own completion
        }
        finishIfDone();
    }

    private void received(int res) {
        ByteBuf b = receiving;
        receiving = null;
        if (state != State.OPEN || res < 0) {
            b.release();
            if (state == State.OPEN) {
                failed(res);
            }
            return;
        }
        // A zero-length datagram is a datagram too: it goes on as one.
        flow.fromServer(b.writerIndex(res));
        flow.flushFront();
        if (state == State.OPEN) {
            receive();
        }
    }

    private void sent(int slot, int res) {
        sending[slot].release();
        sending[slot] = null;
        sendCount--;
        if (res == ECONNREFUSED && state == State.OPEN) {
            failed(res); // an earlier datagram's ICMP port unreachable, reported on this send
        }
        // Any other failure (no buffer space, say) costs that datagram only, as a dropped datagram does.
    }

    /** Port unreachable ends the flow and counts toward outlier detection; any other error just ends it. */
    private void failed(int res) {
        if (res == ECONNREFUSED) {
            flow.serverUnreachable();
        }
        flow.close();
    }

    private void finishIfDone() {
        if (state == State.CLOSING && inFlight == 0) {
            state = State.CLOSED;
            SluiceSockets.close(fd);
            registration.cancel();
            flow.server().connections().closed(this);
            closed.run();
        }
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    /** An admin's disable, {@code close_on_down}: the flow ends with its socket. */
    @Override
    public void abort() {
        flow.close();
    }

    @Override
    public void registered() {
    }

    /**
     * The loop is shutting down with the flow open. A buffer whose operation never completes is left to the
     * collector rather than handed back while the kernel may still write into it.
     */
    @Override
    public void close() {
        flow.close();
    }
}
