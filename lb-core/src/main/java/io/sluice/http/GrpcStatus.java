package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * The 17 canonical gRPC status codes (the ordinal is the code), and how Sluice's own outcomes map onto them:
 * the {@code grpc_code} label of {@code sluice_grpc_requests_total}, by name, so its values are bounded.
 */
public enum GrpcStatus {
    OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED,
    RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS,
    UNAUTHENTICATED;

    static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    static final AsciiString GRPC_MESSAGE = AsciiString.cached("grpc-message");
    private static final GrpcStatus[] BY_CODE = values();

    public int code() {
        return ordinal();
    }

    /** A grpc-status value; anything but a known code is UNKNOWN, as gRPC clients read it. */
    static GrpcStatus parse(CharSequence value) {
        if (value == null || value.isEmpty() || value.length() > 2) {
            return UNKNOWN;
        }
        int code = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return UNKNOWN;
            }
            code = code * 10 + (c - '0');
        }
        return code < BY_CODE.length ? BY_CODE[code] : UNKNOWN;
    }

    /** The grpc-status in {@code h}, or null when there is none. */
    static GrpcStatus in(HttpHeaders h) {
        String v = h.get(GRPC_STATUS);
        return v == null ? null : parse(v.trim());
    }

    /**
     * What a gRPC client is told when Sluice answers itself. Unavailable for what another server (or the same
     * one later) may serve; deadline for timeouts; resource exhausted for Sluice's limits; internal for
     * protocol failures no retry can fix.
     */
    static GrpcStatus forReason(ErrorReason reason) {
        return switch (reason) {
            case NO_SERVER, CONNECT_FAILED, BACKEND_RESET, BROKEN_RESPONSE, QUEUE_FULL, QUEUE_TIMEOUT -> UNAVAILABLE;
            case TIMEOUT, HEADER_TIMEOUT, SEND_TIMEOUT -> DEADLINE_EXCEEDED;
            case POOL_EXHAUSTED, POOL_FULL, TOO_LARGE, LIMITED -> RESOURCE_EXHAUSTED;
            case BAD_RESPONSE, BAD_REQUEST, INTERNAL -> INTERNAL;
            case CLIENT_CLOSED -> CANCELLED;
        };
    }

    /**
     * A response without grpc-status, by its HTTP status, as gRPC clients map it
     * (grpc/doc/http-grpc-status-mapping.md): a server that is not speaking gRPC, or a proxy error page.
     */
    static GrpcStatus forHttpStatus(int status) {
        return switch (status) {
            case 400 -> INTERNAL;
            case 401 -> UNAUTHENTICATED;
            case 403 -> PERMISSION_DENIED;
            case 404 -> UNIMPLEMENTED;
            case 429, 502, 503, 504 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }
}
