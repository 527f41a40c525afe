package io.sluice.config;

/** The admin HTTP endpoint (metrics, liveness, readiness). */
public record AdminConfig(boolean enabled, HostPort bind) {
    public static final AdminConfig DEFAULT = new AdminConfig(true, new HostPort("127.0.0.1", 9901));
}
