package io.sluice.tls;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.sluice.net.EarlySubmit;
import io.sluice.net.HeavySteps;
import java.util.ArrayDeque;

/**
 * Ahead of the SNI and TLS handlers until the handshake ends ({@link HandshakeObserver} removes it). The reads
 * that come before the server's first flight are the handshake's expensive step (the key exchange and the
 * signature, 100-300 µs of CPU), so each is a {@link HeavySteps heavy step}: it runs now if the loop pass has room
 * for one, else this connection's inbound events are held, in order, until its turn in a later pass. And before
 * such a step reaches the engine, what the loop has queued for other connections goes out ({@link EarlySubmit}).
 * On io_uring with 64 clients opening TLS connections, the answers' p99 was 1.36-1.67x the best peer's without
 * the early submission, and 1.34-1.59x with it on a core shared with the servers: a pass computed every
 * handshake it read before it handled the responses that came meanwhile.
 *
 * <p>Held reads stay few: with autoRead off the engine asks for the next read only after it has seen this one,
 * and a client sends nothing more before the server's answer. Held events are handed on when the turn comes, or
 * at once if the handler leaves first (the SNI stage failed, the connection closes).
 */
final class HandshakeTurn extends ChannelDuplexHandler {
    static final String NAME = "tls-turn";

    private enum State {
        /** Events pass straight through. */
        PASSING,
        /** Waiting for a turn: every inbound event is held. */
        HOLDING,
        /** Handing the held events on; those that arrive meanwhile queue behind them. */
        HANDING_ON
    }

    /** Held inbound events other than reads (a read is held as its message). */
    private enum Signal {
        READ_COMPLETE, INACTIVE, WRITABILITY_CHANGED
    }

    private record Caught(Throwable cause) {
    }

    private record UserEvent(Object event) {
    }

    private State state = State.PASSING;
    /** Whether the engine has written its first flight: reads after it are cheap and skip the queue. */
    private boolean answered;
    private ArrayDeque<Object> held;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (state != State.PASSING) {
            held.add(msg);
        } else if (answered || HeavySteps.mayStartNow()) {
            if (!answered) {
                EarlySubmit.now();
            }
            ctx.fireChannelRead(msg);
        } else {
            state = State.HOLDING;
            held = new ArrayDeque<>(4);
            held.add(msg);
            HeavySteps.later(() -> takeTurn(ctx));
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state != State.PASSING) {
            held.add(Signal.READ_COMPLETE);
        } else {
            ctx.fireChannelReadComplete();
        }
    }

    /**
     * A client gone before its turn (a flood's clients do not wait) is not worth a handshake: its held reads are
     * dropped, the other held events go on, then this one, and the handlers behind count a handshake that failed
     * on a closed connection.
     */
    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (state == State.HOLDING) {
            held.removeIf(HandshakeTurn::dropIfRead);
            handOn(ctx);
            ctx.fireChannelInactive();
        } else if (state == State.HANDING_ON) {
            held.add(Signal.INACTIVE);
        } else {
            ctx.fireChannelInactive();
        }
    }

    private static boolean dropIfRead(Object e) {
        if (e == Signal.READ_COMPLETE) {
            return true;
        }
        if (e instanceof Signal || e instanceof Caught || e instanceof UserEvent) {
            return false;
        }
        ReferenceCountUtil.release(e);
        return true;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state != State.PASSING) {
            held.add(new Caught(cause));
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * A client that stopped sending before the handshake ended can never finish it (its Finished is still to
     * come), so the connection closes now, and a held ClientHello is dropped uncomputed. Listeners allow half-closed
     * connections, so nothing else would close it before the engine's handshake timeout: a flood of clients
     * that send a ClientHello and shut down their side kept every connection, its engine and its pipeline for
     * those 10 s, enough to fill the young generation and lengthen every collection.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.close();
        } else if (state != State.PASSING) {
            held.add(new UserEvent(evt));
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state != State.PASSING) {
            held.add(Signal.WRITABILITY_CHANGED);
        } else {
            ctx.fireChannelWritabilityChanged();
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        answered = true;
        ctx.write(msg, promise);
    }

    /** Leaving while events are held (the SNI stage failed, say): they go on now, in order. */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (state == State.HOLDING) {
            handOn(ctx);
        }
    }

    /** The loop's pacing gives this connection its step; a no-op if the handler left and handed all on. */
    private void takeTurn(ChannelHandlerContext ctx) {
        if (state != State.HOLDING) {
            return;
        }
        EarlySubmit.now();
        handOn(ctx);
    }

    /**
     * Fires the held events in order through this handler's context, which keeps its place in the pipeline even
     * once removed (a handler behind may remove this one while an event is handed on, and the rest still follow).
     */
    private void handOn(ChannelHandlerContext ctx) {
        state = State.HANDING_ON;
        try {
            Object e;
            while ((e = held.poll()) != null) {
                fire(ctx, e);
            }
        } finally {
            state = State.PASSING;
            // A throw from a handler behind (they should not) leaves nothing held for nobody.
            Object e;
            while ((e = held.poll()) != null) {
                ReferenceCountUtil.release(e);
            }
            held = null;
        }
    }

    private static void fire(ChannelHandlerContext ctx, Object e) {
        if (e == Signal.READ_COMPLETE) {
            ctx.fireChannelReadComplete();
        } else if (e == Signal.INACTIVE) {
            ctx.fireChannelInactive();
        } else if (e == Signal.WRITABILITY_CHANGED) {
            ctx.fireChannelWritabilityChanged();
        } else if (e instanceof Caught c) {
            ctx.fireExceptionCaught(c.cause());
        } else if (e instanceof UserEvent u) {
            ctx.fireUserEventTriggered(u.event());
        } else {
            ctx.fireChannelRead(e);
        }
    }
}
