package io.sluice.config;

import java.time.Duration;

/**
 * Passive ejection of servers that fail live traffic (Envoy's consecutive-failure detector).
 *
 * @param onConnectFailure count connect failures and resets before any byte came back
 * @param on5xx            count HTTP 5xx responses
 */
public record OutlierDetectionConfig(int consecutiveFailures, Duration baseEjectionTime, Duration maxEjectionTime,
                                     int maxEjectionPercent, boolean onConnectFailure, boolean on5xx) {

    public static final int DEFAULT_CONSECUTIVE_FAILURES = 5;
    public static final Duration DEFAULT_BASE_EJECTION_TIME = Duration.ofSeconds(30);
    public static final Duration DEFAULT_MAX_EJECTION_TIME = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_EJECTION_PERCENT = 50;
    public static final boolean DEFAULT_ON_CONNECT_FAILURE = true;
    public static final boolean DEFAULT_ON_5XX = true;
}
