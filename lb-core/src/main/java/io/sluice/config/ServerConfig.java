package io.sluice.config;

/**
 * One backend server.
 *
 * @param backup used only when no primary server of the cluster is available
 */
public record ServerConfig(HostPort address, int weight, boolean backup) {

    public static final int DEFAULT_WEIGHT = 1;
    public static final boolean DEFAULT_BACKUP = false;

    /** The label used in metrics and logs. */
    public String label() {
        return address.toString();
    }
}
