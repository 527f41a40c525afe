package io.sluice.http;

/**
 * The grpc-timeout request header: at most 8 ASCII digits and a unit, H, M, S, m (milli), u (micro) or n
 * (nano), per the gRPC over HTTP/2 spec.
 */
final class GrpcTimeout {
    /** No grpc-timeout header. */
    static final long NONE = -1;
    /** A grpc-timeout header that does not follow the grammar. */
    static final long MALFORMED = -2;

    private GrpcTimeout() {
    }

    /** The timeout in nanoseconds, {@link #NONE} for null, or {@link #MALFORMED}. */
    static long parse(String value) {
        if (value == null) {
            return NONE;
        }
        int n = value.length();
        if (n < 2 || n > 9) {
            return MALFORMED;
        }
        long amount = 0;
        for (int i = 0; i < n - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return MALFORMED;
            }
            amount = amount * 10 + (c - '0');
        }
        long unitNanos = switch (value.charAt(n - 1)) {
            case 'H' -> 3_600_000_000_000L;
            case 'M' -> 60_000_000_000L;
            case 'S' -> 1_000_000_000L;
            case 'm' -> 1_000_000L;
            case 'u' -> 1_000L;
            case 'n' -> 1L;
            default -> 0L;
        };
        if (unitNanos == 0) {
            return MALFORMED;
        }
        // 99999999 hours overflows a long of nanoseconds: such a deadline is as good as none.
        return amount > Long.MAX_VALUE / unitNanos ? Long.MAX_VALUE : amount * unitNanos;
    }
}
