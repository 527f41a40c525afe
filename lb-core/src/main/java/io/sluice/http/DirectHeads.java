package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The HTTP/1.1 encoders' own way for the plain messages of the hot path: the whole head (and a small whole body)
 * spelled into the thread's {@link HeadBytes} and copied into one buffer of exactly their size, instead of Netty's
 * {@code HttpObjectEncoder} (its state machine, a buffer sized from its moving average of head sizes, the line,
 * the fields, the end of the head and the body each written on their own). Which messages qualify is each
 * encoder's: {@link BackendCodec.RequestEncoder} (a bodiless request whose table is a {@link HeadFields}) and
 * {@link HttpFrontCodecs.ResponseEncoder} (a {@link PlainResponse}); everything else stays Netty's, and they take
 * this way only while Netty's encoder is between messages ({@link NettyPosition}), so its state stays right.
 *
 * <p>{@code -Dsluice.http1.directHeads=false} turns it off (for A/B comparisons); read when a connection's codec is
 * made.
 */
final class DirectHeads {
    static final String PROPERTY = "sluice.http1.directHeads";
    /**
     * Messages written the direct way, in this JVM: lets a test through a real proxy see that it was taken. A plain
     * field, not an adder: it is bumped twice per proxied request, and loops racing on it may lose counts, which
     * such a test (many messages, one loop) does not mind.
     */
    private static long taken;

    private DirectHeads() {
    }

    static long taken() {
        return taken;
    }

    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty(PROPERTY));
    }

    /**
     * The bytes spelled in {@code head}, then {@code body}'s readable bytes (none when null), in one buffer of
     * exactly their size (its maximum too: it never grows). {@code body} is not released.
     */
    static ByteBuf oneBuffer(ByteBufAllocator alloc, HeadBytes head, ByteBuf body) {
        taken++;
        return head.withBody(alloc, body);
    }

    /**
     * Where Netty's encoder is, learnt from the messages handed to it (its state is private; what it does with
     * each kind of message is not): inside a message from a head that is not a whole message until a last
     * content has gone through. A whole message (head and body) leaves it where it was.
     */
    static final class NettyPosition {
        private boolean inMessage;

        boolean betweenMessages() {
            return !inMessage;
        }

        /**
         * Before {@code msg} goes to Netty's encoder. A head starts a message even if its encoding then throws
         * (Netty may have moved already): the direct way stays off until a last content gets through.
         */
        void passing(Object msg) {
            if (msg instanceof HttpMessage && !(msg instanceof LastHttpContent)) {
                inMessage = true;
            }
        }

        /** After Netty's encoder took {@code msg} without a throw: a last content ended the message. */
        void passed(Object msg) {
            if (msg instanceof LastHttpContent) {
                inMessage = false;
            }
        }
    }
}
