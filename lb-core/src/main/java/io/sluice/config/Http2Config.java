package io.sluice.config;

import java.time.Duration;

/**
 * HTTP/2 settings of a listener with {@code protocol: http} (the {@code http2} map, next to {@code http}).
 *
 * @param maxConcurrentStreams         streams a client may have open at once on one connection (SETTINGS)
 * @param initialStreamWindowSize      how much request body one stream may send before Sluice asks for more
 * @param initialConnectionWindowSize  the same for all streams of a connection together: what one client
 *                                     connection can make Sluice hold at most (at least twice the stream window)
 * @param maxHeaderListSize            largest decoded header list of a request (HPACK bomb guard); larger is
 *                                     refused, and much larger closes the connection
 * @param maxResetsPerWindow           streams a client may reset within {@code resetWindow} before it gets GOAWAY
 *                                     (rapid reset, CVE-2023-44487)
 * @param resetWindow                  the window of {@code maxResetsPerWindow}
 * @param stallTimeout                 a response that cannot be sent for this long because the client keeps its
 *                                     window closed gets its connection closed; 0 = never
 */
public record Http2Config(int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize,
                          int maxHeaderListSize, int maxResetsPerWindow, Duration resetWindow,
                          Duration stallTimeout) {

    public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 100;
    /** About a 20 Mbit/s x 100 ms bandwidth-delay product per upload, without large per-stream buffers. */
    public static final int DEFAULT_INITIAL_STREAM_WINDOW_SIZE = 256 * 1024;
    /** Bounds what one connection's uploads can make Sluice buffer (Envoy's 256 MiB grew memory: envoy#8114). */
    public static final int DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE = 1024 * 1024;
    /** The same as {@code http.max_header_size}: an h2 request may carry no more than an HTTP/1.1 one. */
    public static final int DEFAULT_MAX_HEADER_LIST_SIZE = HttpConfig.DEFAULT_MAX_HEADER_SIZE;
    /** Netty's own default: 200 resets in 30 s. Browsers cancel far fewer. */
    public static final int DEFAULT_MAX_RESETS_PER_WINDOW = 200;
    public static final Duration DEFAULT_RESET_WINDOW = Duration.ofSeconds(30);
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(30);
    public static final Http2Config DEFAULT = new Http2Config(DEFAULT_MAX_CONCURRENT_STREAMS,
            DEFAULT_INITIAL_STREAM_WINDOW_SIZE, DEFAULT_INITIAL_CONNECTION_WINDOW_SIZE, DEFAULT_MAX_HEADER_LIST_SIZE,
            DEFAULT_MAX_RESETS_PER_WINDOW, DEFAULT_RESET_WINDOW, DEFAULT_STALL_TIMEOUT);
}
