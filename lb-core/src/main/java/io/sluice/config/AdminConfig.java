package io.sluice.config;

import java.nio.file.Path;

/**
 * The admin HTTP endpoint (metrics, liveness, readiness, the admin API and the status page).
 *
 * @param tokenFile    a file holding the bearer token that admin writes (and, with {@code protectReads}, reads)
 *                     must carry; null for none, allowed only on a loopback bind
 * @param protectReads GETs need the token too
 */
public record AdminConfig(boolean enabled, HostPort bind, Path tokenFile, boolean protectReads) {
    public static final boolean DEFAULT_ENABLED = true;
    /** Loopback only: metrics and readiness are not for the outside world unless ops say so. */
    public static final HostPort DEFAULT_BIND = new HostPort("127.0.0.1", 9901);
    public static final boolean DEFAULT_PROTECT_READS = false;
    public static final AdminConfig DEFAULT = new AdminConfig(DEFAULT_ENABLED, DEFAULT_BIND, null,
            DEFAULT_PROTECT_READS);

    /** True when only this machine can reach the endpoint. */
    public boolean loopback() {
        String h = bind.host();
        return h.startsWith("127.") || h.equals("::1") || h.equalsIgnoreCase("localhost");
    }
}
