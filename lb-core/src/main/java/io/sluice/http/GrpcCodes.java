package io.sluice.http;

import java.util.concurrent.atomic.LongAdder;

/** gRPC calls of one cluster by their final status: one counter per canonical code, so the label is bounded. */
public final class GrpcCodes {
    private final LongAdder[] counts = new LongAdder[GrpcStatus.values().length];

    GrpcCodes() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void count(GrpcStatus status) {
        counts[status.ordinal()].increment();
    }

    public long total(GrpcStatus status) {
        return counts[status.ordinal()].sum();
    }
}
