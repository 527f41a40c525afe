package io.sluice.http;

import io.netty.handler.codec.http2.Http2Error;

/**
 * Why Sluice ended an HTTP/2 connection with GOAWAY: the {@code reason} label of
 * {@code sluice_http2_goaways_total}, bounded. Errors are the client's fault as HTTP/2 names it; the rest are
 * Sluice's own decisions.
 */
public enum GoAwayReason {
    /** Shutdown or reload: in-flight streams finish, no new ones. */
    DRAIN("drain"),
    /** A response could not be sent for http2.stall_timeout because the client kept its window closed. */
    STALL("stall"),
    /** Rapid reset, SETTINGS/PING flood, CONTINUATION flood and similar abuse. */
    ENHANCE_YOUR_CALM("enhance_your_calm"),
    PROTOCOL_ERROR("protocol_error"),
    FLOW_CONTROL_ERROR("flow_control_error"),
    COMPRESSION_ERROR("compression_error"),
    FRAME_SIZE_ERROR("frame_size_error"),
    /** A GOAWAY without error that Sluice did not ask for (the codec's own close), or any other code. */
    OTHER("other");

    private final String label;

    GoAwayReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    static GoAwayReason of(long errorCode) {
        Http2Error e = Http2Error.valueOf(errorCode);
        if (e == null) {
            return OTHER;
        }
        return switch (e) {
            case ENHANCE_YOUR_CALM -> ENHANCE_YOUR_CALM;
            case PROTOCOL_ERROR -> PROTOCOL_ERROR;
            case FLOW_CONTROL_ERROR -> FLOW_CONTROL_ERROR;
            case COMPRESSION_ERROR -> COMPRESSION_ERROR;
            case FRAME_SIZE_ERROR -> FRAME_SIZE_ERROR;
            default -> OTHER;
        };
    }
}
