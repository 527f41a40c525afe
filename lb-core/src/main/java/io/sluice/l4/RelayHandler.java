package io.sluice.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.net.ConnectionTimeouts;
import java.io.IOException;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves bytes from the channel it sits on to its peer. The buffer read is the buffer written: no copy.
 * Backpressure goes through autoRead: when the peer's outbound buffer passes its high water mark the peer's
 * handler switches reading off here, and back on once it drains, so a slow reader on one side stops reads on
 * the other instead of queueing memory. Reading stays on while data flows, which spares the two epoll_ctl
 * calls per read that a manual read() per batch costs on the epoll transport.
 */
final class RelayHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RelayHandler.class);

    private final Channel peer;
    private final LongAdder bytes;
    private final HalfClose halfClose;
    /**
     * Whether this side's channel became active while the handler sat on it: only then does its close fire
     * {@link #channelInactive}, which hands the peer what is queued for it before closing it.
     */
    private boolean becameActive;

    RelayHandler(Channel peer, LongAdder bytes, HalfClose halfClose) {
        this.peer = peer;
        this.bytes = bytes;
        this.halfClose = halfClose;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        becameActive = ctx.channel().isActive();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        becameActive = true;
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf && !halfClose.serverGone) {
            bytes.add(buf.readableBytes());
            // A failed write on the peer surfaces in the peer's exceptionCaught, which closes both sides.
            peer.write(buf, peer.voidPromise());
        } else {
            // Not bytes, or a client's bytes for a server that is gone (see linger): nowhere to go, not counted.
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // One flush per read batch, not per buffer.
        peer.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // Our outbound buffer crossed a water mark: stop or resume reading on the side that fills it.
        autoRead(peer, ctx.channel().isWritable());
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            passFin(ctx.channel(), peer, halfClose);
        } else if (evt instanceof IdleStateEvent) {
            log.debug("closing idle connection {}", ctx.channel());
            closeBoth(ctx.channel());
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!peer.isActive()) {
            return;
        }
        if (peer == halfClose.client && !inputShutdown(peer)) {
            linger(peer);
        } else if (nothingQueued(peer)) {
            peer.close();
        } else {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * The server is gone (a reset, an error, a close) while the client may still send. What is queued for the
     * client is written, then its output is finished (behind TLS with a close_notify first, as the close sent
     * one) and what it still sends is read and dropped until its input ends (which closes it), it fails or the
     * idle timeout closes it. Closing it as soon as the bytes were written lost them: Linux resets a socket
     * closed with input unread, or one that input reaches after the close (the client's next bytes for the
     * server that has just reset), and a reset drops what the socket's send buffer still holds, megabytes of the
     * server's last bytes. The server's side has no idle timeout and so does not linger.
     */
    private void linger(Channel client) {
        halfClose.serverGone = true;
        ConnectionTimeouts timeouts = client.pipeline().get(ConnectionTimeouts.class);
        if (timeouts != null) {
            timeouts.stopCountingActivity(); // a client that keeps sending must not keep the connection
        }
        autoRead(client, true); // also when the server was not taking the client's bytes when it went
        if (halfClose.serverDone) {
            return; // the server's FIN is on its way to the client already (passFin)
        }
        writtenOut(client, true).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess() || inputShutdown(client)) {
                client.close(); // failed, or its input ended meanwhile: nothing left to wait for
            } else if (client.isActive()) {
                finishOutput(client);
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("relay error on {}", ctx.channel(), cause);
        // Only this side is broken: what it delivered before the error (a TLS server's last record, read together
        // with the alert that failed the next one) is still written to the peer before the peer closes
        // (channelInactive). Closing the peer at once here dropped it. A side that never became active (its
        // connect failed) gets no channelInactive and delivered nothing: the peer closes now. Whether it became
        // active is remembered, not asked: a failed write has already closed the channel when this is called,
        // and closing the peer then dropped what was queued for it (up to its high water mark and more).
        ctx.channel().close();
        if (!becameActive) {
            peer.close();
        }
    }

    private void closeBoth(Channel self) {
        self.close();
        peer.close();
    }

    /**
     * Switches reading on or off, but never on for an input that is already finished: there is nothing left to
     * read, and on epoll without {@link io.sluice.net.EpollInterest} such a read failed with ENOENT and closed the
     * channel, losing the other direction's data.
     */
    static void autoRead(Channel ch, boolean on) {
        if (on && inputShutdown(ch)) {
            return;
        }
        if (ch.config().isAutoRead() != on) {
            ch.config().setAutoRead(on);
        }
    }

    /**
     * {@code self} half-closed its input: pass the FIN on to {@code peer} once everything before it is written,
     * or, when the other direction had already finished, close both once what is queued for each side is
     * written. Closing on the peer's flush alone dropped bytes still queued towards {@code self}: a client
     * that sent its FIN while its upload was queued for a server that had already answered and sent its own.
     * A side that never drains keeps both open until the client's idle timeout closes them.
     */
    static void passFin(Channel self, Channel peer, HalfClose halfClose) {
        boolean bothDone = halfClose.inputDone(self);
        if (!bothDone && nothingQueued(peer)) {
            if (peer.isActive()) {
                finishOutput(peer);
            }
            return;
        }
        ChannelFuture toPeer = writtenOut(peer);
        if (bothDone) {
            // An output already finished has nothing queued, and a write to it would only fail.
            ChannelFuture toSelf = self instanceof DuplexChannel d && d.isOutputShutdown()
                    ? self.newSucceededFuture() : writtenOut(self);
            ChannelFutureListener closeWhenBothWritten = f -> {
                if (toPeer.isDone() && toSelf.isDone()) {
                    self.close();
                    peer.close();
                }
            };
            toPeer.addListener(closeWhenBothWritten);
            toSelf.addListener(closeWhenBothWritten);
        } else {
            toPeer.addListener((ChannelFutureListener) f -> {
                if (peer.isActive()) {
                    finishOutput(peer);
                }
            });
        }
    }

    private static boolean inputShutdown(Channel ch) {
        return ch instanceof DuplexChannel d && d.isInputShutdown();
    }

    private static ChannelFuture writtenOut(Channel ch) {
        return writtenOut(ch, false);
    }

    /**
     * Completes once everything written to {@code ch} before it has left through its socket. Through TLS an empty
     * write completes as soon as it is wrapped, when the records wrapped before it may still wait for the socket
     * (on io_uring, a send not yet made): a shutdown then overtook them, and the server never saw the client's
     * last bytes. So behind TLS a second empty write goes below it, and completes after those records. With
     * {@code closeNotify}, behind TLS a close_notify is wrapped after those records, and is out too.
     */
    private static ChannelFuture writtenOut(Channel ch, boolean closeNotify) {
        ChannelHandlerContext tls = ch.pipeline().context(SslHandler.class);
        ChannelFuture wrapped;
        if (tls != null && closeNotify) {
            // SslHandler.closeOutbound closes its engine before it flushes: what was written and not yet flushed
            // (the server's last read, when its failure came before its channelReadComplete) then failed to wrap
            // and was dropped, and the close_notify came that much early. Flushed first, it is wrapped before.
            ch.flush();
            wrapped = ((SslHandler) tls.handler()).closeOutbound();
        } else {
            wrapped = ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        }
        if (tls == null) {
            return wrapped;
        }
        ChannelPromise out = ch.newPromise();
        wrapped.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                out.tryFailure(f.cause());
            } else if (tls.isRemoved()) {
                out.trySuccess();
            } else {
                tls.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) g -> {
                    if (g.isSuccess()) {
                        out.trySuccess();
                    } else {
                        out.tryFailure(g.cause());
                    }
                });
            }
        });
        return out;
    }

    /**
     * True when {@code ch} has no write queued or in flight: what waiting for an empty buffer's write would wait
     * for is already done, so the FIN or the close can go now. That spares a zero-length send (on io_uring a ring
     * operation of its own), a promise and a listener per relayed connection.
     */
    private static boolean nothingQueued(Channel ch) {
        if (ch.pipeline().get(SslHandler.class) != null) {
            // TLS may hold relayed bytes of its own (a renegotiation waiting to unwrap) before they reach the
            // socket's buffer: only a write through the pipeline waits behind them.
            return false;
        }
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.isEmpty() && out.totalPendingWriteBytes() == 0;
    }

    /**
     * Sends the FIN on {@code ch}, whose writes are all flushed. On a native transport the socket is shut down
     * directly: Netty's {@code shutdownOutput} builds a {@code ChannelOutputShutdownException}, stack trace and
     * all, every time, which is once per relayed connection.
     *
     * <p>From now on the end of {@code ch}'s input ends the connection (both directions are then done), so its
     * half-closure is switched off: Netty then closes the channel at that end, and {@link #channelInactive}
     * closes the peer once its writes are out. With half-closure on, Netty would first shut the input of a
     * socket the kernel has already closed, which fails with ENOTCONN and fills a
     * {@code NotYetConnectedException}'s stack trace, once per relayed connection.
     */
    private static void finishOutput(Channel ch) {
        ch.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        if (ch instanceof UnixChannel unix && unix.fd() instanceof Socket socket) {
            try {
                socket.shutdown(false, true);
            } catch (IOException e) {
                log.debug("shutting down the output of {} failed: {}", ch, e.toString());
                ch.close();
            }
        } else if (ch instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
        }
    }

    /** Which directions have finished; both channels share one loop, so plain fields suffice. */
    static final class HalfClose {
        private final Channel client;
        private boolean clientDone;
        private boolean serverDone;
        /** The server's channel closed while the client's stayed open: the client's relay drops what it reads. */
        private boolean serverGone;

        HalfClose(Channel client) {
            this.client = client;
        }

        /** Marks the input of {@code ch} finished; true when both directions are now finished. */
        boolean inputDone(Channel ch) {
            if (ch == client) {
                clientDone = true;
            } else {
                serverDone = true;
            }
            return clientDone && serverDone;
        }
    }
}
