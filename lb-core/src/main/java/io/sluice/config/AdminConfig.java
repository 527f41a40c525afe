package io.sluice.config;

/** The admin HTTP endpoint (metrics, liveness, readiness). */
public record AdminConfig(boolean enabled, HostPort bind) {
    public static final boolean DEFAULT_ENABLED = true;
    /** Loopback only: metrics and readiness are not for the outside world unless ops say so. */
    public static final HostPort DEFAULT_BIND = new HostPort("127.0.0.1", 9901);
    public static final AdminConfig DEFAULT = new AdminConfig(DEFAULT_ENABLED, DEFAULT_BIND);
}
