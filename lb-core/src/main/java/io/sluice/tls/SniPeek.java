package io.sluice.tls;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.ssl.SslClientHelloHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reads a client's TLS ClientHello without consuming it, for SNI passthrough. Netty's
 * {@link SslClientHelloHandler} reassembles a hello split over several TCP segments and several TLS records;
 * this subclass reads the server name out of it ({@link ClientHelloSni}), then leaves the pipeline, which hands
 * every byte read so far, unchanged, to the next handler, and fires one {@link Result} after them.
 *
 * <p>Reads are driven by the caller (autoRead is off): the first {@code read()} comes from the next handler,
 * and the decoder asks for another read after each one that did not complete the hello. Before Netty's
 * parser sees the bytes, the record headers are walked once each and kept track of, so that the parser runs
 * once, when the whole hello is there (it starts over on every call, which a client sending a byte at a time
 * would turn into quadratic work), and so that the ClientHello and everything buffered for it are capped.
 */
public final class SniPeek extends SslClientHelloHandler<SniPeek.Result> {
    /** Far above today's largest hellos (post-quantum key shares make them about 1.8 KiB). */
    public static final int MAX_CLIENT_HELLO = 64 * 1024;
    /** Record headers included; a hello cut into tiny records costs more than this only when made to. */
    static final int MAX_PEEKED_BYTES = 2 * MAX_CLIENT_HELLO;

    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int RECORD_HEADER = 5;

    /** How a peek ended. */
    public enum Outcome {
        /** A whole ClientHello was read; {@link Result#serverName()} is its SNI or null. */
        HELLO,
        /** The first bytes are not a TLS handshake record. */
        NOT_TLS,
        /** TLS records that do not carry a ClientHello this proxy can read, or one over the size limit. */
        MALFORMED,
        /** No whole ClientHello within the peek timeout. */
        TIMEOUT,
        /** The client closed its side before a whole ClientHello. */
        CLOSED
    }

    /** The user event fired once the peek is over, after the peeked bytes. */
    public record Result(Outcome outcome, String serverName) {
        static final Result NOT_TLS = new Result(Outcome.NOT_TLS, null);
        static final Result MALFORMED = new Result(Outcome.MALFORMED, null);
        static final Result TIMEOUT = new Result(Outcome.TIMEOUT, null);
        static final Result CLOSED = new Result(Outcome.CLOSED, null);
        static final Result NO_SNI = new Result(Outcome.HELLO, null);
    }

    private final long timeoutMillis;
    private ScheduledFuture<?> timeout;
    private boolean done;
    private Result result;
    private boolean sawBytes;
    /** Bytes (from the buffer's reader index) that complete records cover, and the handshake bytes they carry. */
    private int scanned;
    private int handshakeBytes;
    /** The ClientHello with its four-byte header, once the first record has shown its length; -1 before. */
    private int helloBytes = -1;

    public SniPeek(long timeoutMillis) {
        super(MAX_CLIENT_HELLO);
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        timeout = ctx.executor().schedule(() -> finish(ctx, Result.TIMEOUT), timeoutMillis, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (done || !in.isReadable()) {
            return;
        }
        sawBytes = true;
        int start = in.readerIndex();
        int readable = in.readableBytes();
        if (scanned == 0 && (in.getUnsignedByte(start) != HANDSHAKE
                || readable > 1 && in.getUnsignedByte(start + 1) != 3)) {
            finish(ctx, Result.NOT_TLS);
            return;
        }
        // Only up to the end of the hello: what follows it (early data, or anything) is not ours to judge.
        while (readable - scanned >= RECORD_HEADER && (helloBytes < 0 || handshakeBytes < helloBytes)) {
            int at = start + scanned;
            int length = in.getUnsignedShort(at + 3);
            if (in.getUnsignedByte(at) != HANDSHAKE || in.getUnsignedByte(at + 1) != 3 || length == 0) {
                finish(ctx, Result.MALFORMED); // an empty or non-handshake record before the hello is complete
                return;
            }
            if (readable - scanned < RECORD_HEADER + length) {
                break;
            }
            if (helloBytes < 0) {
                // The first record must hold the handshake header (Netty's parser needs it there).
                if (length < 4 || in.getUnsignedByte(at + RECORD_HEADER) != CLIENT_HELLO
                        || in.getUnsignedMedium(at + RECORD_HEADER + 1) > MAX_CLIENT_HELLO) {
                    finish(ctx, Result.MALFORMED);
                    return;
                }
                helloBytes = 4 + in.getUnsignedMedium(at + RECORD_HEADER + 1);
            }
            scanned += RECORD_HEADER + length;
            handshakeBytes += length;
        }
        if (helloBytes >= 0 && handshakeBytes >= helloBytes) {
            super.decode(ctx, in, out); // calls lookup with the reassembled hello, then onLookupComplete
            if (!done) {
                finish(ctx, Result.MALFORMED);
            }
        } else if (readable > MAX_PEEKED_BYTES) {
            finish(ctx, Result.MALFORMED);
        }
    }

    @Override
    protected Future<Result> lookup(ChannelHandlerContext ctx, ByteBuf clientHello) {
        Result result;
        if (clientHello == null) {
            result = Result.MALFORMED; // TLS records, but no ClientHello Netty could reassemble
        } else {
            try {
                String name = ClientHelloSni.serverName(clientHello);
                result = name == null ? Result.NO_SNI : new Result(Outcome.HELLO, name);
            } catch (ClientHelloSni.MalformedHello e) {
                result = Result.MALFORMED;
            }
        }
        return ctx.executor().newSucceededFuture(result);
    }

    @Override
    protected void onLookupComplete(ChannelHandlerContext ctx, Future<Result> future) {
        finish(ctx, future.getNow());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent && !done) {
            // Everything the client sent was decoded as it came: no whole hello will follow.
            finish(ctx, sawBytes ? Result.MALFORMED : Result.CLOSED);
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        // Gone before the hello was complete: nothing to route, and nobody to tell.
        done = true;
        cancelTimeout();
        super.channelInactive(ctx);
    }

    /**
     * Leaves the pipeline, which passes the bytes read so far on, then tells the next handler how the peek went
     * ({@link #handlerRemoved0}). Removed from within decode, ByteToMessageDecoder forwards its buffer only once
     * decode has returned, so the result waits for that: the next handler always has the bytes first.
     */
    private void finish(ChannelHandlerContext ctx, Result result) {
        if (done) {
            return;
        }
        done = true;
        cancelTimeout();
        this.result = result;
        ctx.pipeline().remove(this);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        super.handlerRemoved0(ctx);
        Result r = result;
        result = null;
        if (r != null) {
            ctx.fireUserEventTriggered(r);
        }
    }

    private void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
            timeout = null;
        }
    }
}
