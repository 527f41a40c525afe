package io.sluice.config;

import java.time.Duration;

/**
 * A cluster's queue ({@code clusters[].queue}): connections and requests wait here, in arrival order, while
 * every eligible server is at its {@code max_connections} (HAProxy's backend queue and {@code timeout queue}).
 *
 * @param max     how many may wait at once; one more is refused at once (HTTP 503, TCP close)
 * @param timeout how long one may wait for a free server before it is refused the same way
 */
public record QueueConfig(int max, Duration timeout) {

    public static final int DEFAULT_MAX = 1024;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final QueueConfig DEFAULT = new QueueConfig(DEFAULT_MAX, DEFAULT_TIMEOUT);
}
