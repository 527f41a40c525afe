package io.sluice.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * An HTTP/1.1 head (or part of one) spelled into an event loop's scratch array, then handed to the buffer in
 * one copy. Writing each name, separator, value and CRLF to a direct buffer on its own costs a bounds check, a
 * capacity check and a copy call per piece (about fifty per head); filling a plain array costs none of that.
 * Characters go out as Netty's encoders write ASCII: the low byte of each, '?' above 255.
 *
 * <p>One per thread, used between {@link #start} and {@link #writeTo}, nothing in between reaching another head.
 */
final class HeadBytes {
    /** Room at first; grows to the largest head the thread wrote. */
    private static final int FIRST = 512;
    private static final FastThreadLocal<HeadBytes> LOCAL = new FastThreadLocal<>() {
        @Override
        protected HeadBytes initialValue() {
            return new HeadBytes();
        }
    };

    private byte[] bytes = new byte[FIRST];
    private int length;

    private HeadBytes() {
    }

    /** This thread's scratch, emptied, with room for {@code expected} bytes. */
    static HeadBytes start(int expected) {
        HeadBytes b = LOCAL.get();
        b.length = 0;
        b.room(expected);
        return b;
    }

    /** Makes room for {@code n} more bytes: callers ask once for a piece they know the size of. */
    void room(int n) {
        int need = length + n;
        if (need > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(need, 2 * bytes.length));
        }
    }

    /** Appends {@code s}; the caller made room for its length. */
    void ascii(CharSequence s) {
        if (s instanceof AsciiString a) {
            System.arraycopy(a.array(), a.arrayOffset(), bytes, length, a.length());
            length += a.length();
        } else if (s instanceof RequestId id) {
            length = id.writeTo(bytes, length);
        } else {
            byte[] b = bytes;
            int at = length;
            int n = s.length();
            for (int i = 0; i < n; i++) {
                char c = s.charAt(i);
                b[at++] = c > 255 ? (byte) '?' : (byte) c;
            }
            length = at;
        }
    }

    /**
     * Appends {@code s} when all its characters are ASCII (where the low byte is also its UTF-8), else appends
     * nothing and returns false; the caller made room.
     */
    boolean asciiOnly(String s) {
        byte[] b = bytes;
        int at = length;
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                return false;
            }
            b[at++] = (byte) c;
        }
        length = at;
        return true;
    }

    /** Appends {@code src[start, end)}; the caller made room. */
    void raw(byte[] src, int start, int end) {
        System.arraycopy(src, start, bytes, length, end - start);
        length += end - start;
    }

    /** Appends {@code n} bytes of {@code src} from {@code index}; the caller made room. */
    void raw(ByteBuf src, int index, int n) {
        src.getBytes(index, bytes, length, n);
        length += n;
    }

    void put(byte b) {
        bytes[length++] = b;
    }

    void crlf() {
        bytes[length] = '\r';
        bytes[length + 1] = '\n';
        length += 2;
    }

    /** How many bytes are spelled so far. */
    int length() {
        return length;
    }

    /**
     * The bytes so far, then {@code body}'s readable bytes (none when null), in one buffer of exactly their size
     * (its maximum too: it never grows). {@code body} is not released.
     */
    ByteBuf withBody(ByteBufAllocator alloc, ByteBuf body) {
        int bodyBytes = body == null ? 0 : body.readableBytes();
        int size = length + bodyBytes;
        ByteBuf buf = alloc.buffer(size, size);
        writeTo(buf);
        if (bodyBytes > 0) {
            buf.writeBytes(body, body.readerIndex(), bodyBytes);
        }
        return buf;
    }

    /** The bytes so far to {@code buf}, in one copy. */
    void writeTo(ByteBuf buf) {
        buf.writeBytes(bytes, 0, length);
    }
}
