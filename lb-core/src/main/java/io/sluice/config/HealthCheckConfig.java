package io.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * Active health checks of a cluster (HAProxy's rise/fall meanings).
 *
 * @param port        probe this port instead of the server's; 0 = the server's port
 * @param expectStatus accepted HTTP status ranges (inclusive pairs)
 * @param expectBody   substring the HTTP body must contain; null = any body
 * @param initialUp    whether a new server starts UP (true) or must pass rise checks first
 * @param closeOnDown  close the connections a server holds when it goes DOWN (HAProxy's
 *                     {@code on-marked-down shutdown-sessions}); by default they are left to finish
 */
public record HealthCheckConfig(Type type, String method, String path, String host, List<int[]> expectStatus,
                                String expectBody, Duration interval, Duration timeout, Duration jitter, int rise,
                                int fall, int port, boolean initialUp, boolean closeOnDown) {

    public HealthCheckConfig {
        expectStatus = List.copyOf(expectStatus);
    }

    public enum Type {
        TCP, HTTP
    }
}
