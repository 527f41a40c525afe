package io.sluice.http;

import java.util.Locale;

/** Why a request did not get a complete response from a server; the {@code reason} label of the error counter. */
public enum ErrorReason {
    /** No server of the cluster was available (503). */
    NO_SERVER,
    /** Every connect attempt failed (502). */
    CONNECT_FAILED,
    /** Every pooled connection to the server stayed busy for connect_timeout (503). */
    POOL_EXHAUSTED,
    /** The server's pool already had {@code pool.max_waiting} requests waiting for a connection (503). */
    POOL_FULL,
    /** Every eligible server was at its max_connections and the cluster's queue was full (503). */
    QUEUE_FULL,
    /** Every eligible server stayed at its max_connections for the cluster's queue timeout (503). */
    QUEUE_TIMEOUT,
    /** The server closed or reset the connection before the response began (502). */
    BACKEND_RESET,
    /** The server's response could not be parsed (502). */
    BAD_RESPONSE,
    /** No response head within response_timeout (504). */
    TIMEOUT,
    /** The server's connection broke after the response began: the client got a truncated response. */
    BROKEN_RESPONSE,
    /** Malformed or ambiguous request (400, 405, 505). */
    BAD_REQUEST,
    /** Request line, header or body over a limit (413, 414, 431). */
    TOO_LARGE,
    /** The request head did not arrive within header_timeout (408). */
    HEADER_TIMEOUT,
    /** The client went away before its response was complete. */
    CLIENT_CLOSED,
    /** Over the listener's requests_per_second_per_ip (429). */
    LIMITED,
    /** The client took none of its response for send_timeout: closed. */
    SEND_TIMEOUT,
    /** Sluice failed handling an HTTP/2 stream (a bug): that stream alone was reset. */
    INTERNAL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
