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
}
