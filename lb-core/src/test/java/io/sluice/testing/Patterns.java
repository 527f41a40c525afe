package io.sluice.testing;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Deterministic byte patterns and digests for checking that transfers arrive intact. */
public final class Patterns {
    private Patterns() {
    }

    /** A chunk whose bytes are not periodic at small offsets, so a dropped or repeated slice changes the digest. */
    public static byte[] chunk(int size) {
        byte[] b = new byte[size];
        long x = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < size; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) x;
        }
        return b;
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
