package io.sluice.config;

import java.util.Set;

/** Reads {@code listeners[].limits}. */
final class ClientLimitsReader {
    static final Set<String> LIMITS = ConfigNode.keys("connections_per_ip", "requests_per_second_per_ip", "burst");
    /** Bounds that keep a token bucket's span (burst / rate) inside what the table's clock can hold. */
    static final int MAX = 1_000_000;

    private ClientLimitsReader() {
    }

    static ClientLimitsConfig read(ConfigNode listener) {
        ConfigNode n = listener.map("limits", LIMITS);
        if (n == null) {
            return ClientLimitsConfig.NONE;
        }
        int connections = n.integer("connections_per_ip", ClientLimitsConfig.DEFAULT_CONNECTIONS_PER_IP, 0, MAX);
        int rate = n.integer("requests_per_second_per_ip", ClientLimitsConfig.DEFAULT_REQUESTS_PER_SECOND_PER_IP,
                0, MAX);
        int burst = n.integer("burst", ClientLimitsConfig.DEFAULT_BURST, 0, MAX);
        if (burst > 0 && rate == 0) {
            n.error("burst", "needs requests_per_second_per_ip (burst is the size of its token bucket)");
        }
        return new ClientLimitsConfig(connections, rate, burst);
    }
}
