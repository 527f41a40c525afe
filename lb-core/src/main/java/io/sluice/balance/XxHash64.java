package io.sluice.balance;

/**
 * xxHash64 (Yann Collet's XXH64), written out here so that every Sluice instance, on any JVM, maps a key to
 * the same value: consistent hashing only keeps several instances in agreement if the hash is fixed forever.
 * {@code String.hashCode()} is too weak and identity hash codes differ per process, so neither is used.
 * Allocation-free; the char variant hashes a {@link CharSequence} as its UTF-16LE bytes without copying it.
 */
public final class XxHash64 {
    private static final long P1 = 0x9E3779B185EBCA87L;
    private static final long P2 = 0xC2B2AE3D27D4EB4FL;
    private static final long P3 = 0x165667B19E3779F9L;
    private static final long P4 = 0x85EBCA77C2B2AE63L;
    private static final long P5 = 0x27D4EB2F165667C5L;

    private XxHash64() {
    }

    public static long hash(byte[] b, long seed) {
        return hash(b, 0, b.length, seed);
    }

    public static long hash(byte[] b, int off, int len, long seed) {
        int end = off + len;
        int p = off;
        long h;
        if (len >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            int limit = end - 32;
            do {
                v1 = round(v1, getLong(b, p));
                v2 = round(v2, getLong(b, p + 8));
                v3 = round(v3, getLong(b, p + 16));
                v4 = round(v4, getLong(b, p + 24));
                p += 32;
            } while (p <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = seed + P5;
        }
        h += len;
        while (p + 8 <= end) {
            h ^= round(0, getLong(b, p));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            p += 8;
        }
        if (p + 4 <= end) {
            h ^= (getInt(b, p) & 0xFFFFFFFFL) * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            p += 4;
        }
        while (p < end) {
            h ^= (b[p] & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            p++;
        }
        return avalanche(h);
    }

    /** Same value as {@link #hash(byte[], long)} over the UTF-16LE encoding of {@code s}. */
    public static long hashChars(CharSequence s, long seed) {
        int len = s.length() * 2;
        int n = s.length();
        int c = 0; // index in chars; byte position is 2*c
        long h;
        if (len >= 32) {
            long v1 = seed + P1 + P2;
            long v2 = seed + P2;
            long v3 = seed;
            long v4 = seed - P1;
            int limit = n - 16;
            do {
                v1 = round(v1, charLong(s, c));
                v2 = round(v2, charLong(s, c + 4));
                v3 = round(v3, charLong(s, c + 8));
                v4 = round(v4, charLong(s, c + 12));
                c += 16;
            } while (c <= limit);
            h = Long.rotateLeft(v1, 1) + Long.rotateLeft(v2, 7) + Long.rotateLeft(v3, 12) + Long.rotateLeft(v4, 18);
            h = mergeRound(h, v1);
            h = mergeRound(h, v2);
            h = mergeRound(h, v3);
            h = mergeRound(h, v4);
        } else {
            h = seed + P5;
        }
        h += len;
        while (c + 4 <= n) {
            h ^= round(0, charLong(s, c));
            h = Long.rotateLeft(h, 27) * P1 + P4;
            c += 4;
        }
        if (c + 2 <= n) {
            long word = (s.charAt(c) & 0xFFFFL) | (long) (s.charAt(c + 1) & 0xFFFF) << 16;
            h ^= word * P1;
            h = Long.rotateLeft(h, 23) * P2 + P3;
            c += 2;
        }
        if (c < n) {
            char ch = s.charAt(c);
            h ^= (ch & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
            h ^= ((ch >>> 8) & 0xFFL) * P5;
            h = Long.rotateLeft(h, 11) * P1;
        }
        return avalanche(h);
    }

    /** Hash of one 64-bit value (the 8 little-endian bytes of {@code v}). */
    public static long hashLong(long v, long seed) {
        long h = seed + P5 + 8;
        h ^= round(0, v);
        h = Long.rotateLeft(h, 27) * P1 + P4;
        return avalanche(h);
    }

    private static long round(long acc, long input) {
        acc += input * P2;
        acc = Long.rotateLeft(acc, 31);
        return acc * P1;
    }

    private static long mergeRound(long acc, long val) {
        acc ^= round(0, val);
        return acc * P1 + P4;
    }

    private static long avalanche(long h) {
        h ^= h >>> 33;
        h *= P2;
        h ^= h >>> 29;
        h *= P3;
        h ^= h >>> 32;
        return h;
    }

    private static long getLong(byte[] b, int i) {
        return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24
                | (b[i + 4] & 0xFFL) << 32 | (b[i + 5] & 0xFFL) << 40 | (b[i + 6] & 0xFFL) << 48
                | (b[i + 7] & 0xFFL) << 56;
    }

    private static int getInt(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8 | (b[i + 2] & 0xFF) << 16 | (b[i + 3] & 0xFF) << 24;
    }

    private static long charLong(CharSequence s, int c) {
        return (s.charAt(c) & 0xFFFFL) | (long) (s.charAt(c + 1) & 0xFFFF) << 16
                | (long) (s.charAt(c + 2) & 0xFFFF) << 32 | (long) (s.charAt(c + 3) & 0xFFFF) << 48;
    }
}
