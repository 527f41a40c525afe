package io.sluice.config;

/**
 * One backend server.
 *
 * @param backup used only when no primary server of the cluster is available
 * @param maxConnections at most this many relayed connections (TCP listeners) plus requests in flight (HTTP
 *                       listeners) at once; beyond it work waits in the cluster's queue. 0 = unlimited
 */
public record ServerConfig(HostPort address, int weight, boolean backup, int maxConnections) {

    public static final int DEFAULT_WEIGHT = 1;
    public static final boolean DEFAULT_BACKUP = false;
    /** Unlimited. */
    public static final int DEFAULT_MAX_CONNECTIONS = 0;

    public ServerConfig(HostPort address, int weight, boolean backup) {
        this(address, weight, backup, DEFAULT_MAX_CONNECTIONS);
    }

    /** The label used in metrics and logs. */
    public String label() {
        return address.toString();
    }
}
