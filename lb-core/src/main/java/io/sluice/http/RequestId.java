package io.sluice.http;

import java.util.concurrent.ThreadLocalRandom;

/**
 * An X-Request-Id value: 128 random bits, read as 32 lower-case hex digits. Kept as the two numbers and spelled
 * out only when read (the encoder reads it once, writing it to the server), which costs one small object per
 * request instead of the digits' array and a string over them. Immutable.
 */
final class RequestId implements CharSequence {
    private static final int LENGTH = 32;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final long high;
    private final long low;

    private RequestId(long high, long low) {
        this.high = high;
        this.low = low;
    }

    /** Unique enough to correlate logs, and cheaper than a SecureRandom UUID. */
    static RequestId random() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new RequestId(r.nextLong(), r.nextLong());
    }

    @Override
    public int length() {
        return LENGTH;
    }

    @Override
    public char charAt(int index) {
        if (index < 0 || index >= LENGTH) {
            throw new IndexOutOfBoundsException(index);
        }
        long bits = index < 16 ? high : low;
        return HEX[(int) (bits >>> (60 - 4 * (index & 15))) & 0xf];
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return toString().subSequence(start, end);
    }

    @Override
    public String toString() {
        char[] out = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            out[i] = charAt(i);
        }
        return new String(out);
    }

    /** Spells the digits into {@code out} from {@code at} (room for {@link #length} there); returns the end. */
    int writeTo(byte[] out, int at) {
        for (int i = 0; i < 16; i++) {
            out[at + i] = (byte) HEX[(int) (high >>> (60 - 4 * i)) & 0xf];
            out[at + 16 + i] = (byte) HEX[(int) (low >>> (60 - 4 * i)) & 0xf];
        }
        return at + LENGTH;
    }
}
