package io.sluice;

import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After shutdown every connection and request is closed, so every load lease must have been given back: a
 * count left above zero is a path that forgot one, and would have skewed the load-aware algorithms for good.
 * Tests run with {@code -Dsluice.strictLeases=true}, which turns the warning into a failure.
 */
final class LeaseCheck {
    private static final Logger log = LoggerFactory.getLogger(LeaseCheck.class);

    private LeaseCheck() {
    }

    static void afterShutdown(List<Cluster> clusters) {
        List<String> held = new ArrayList<>();
        for (Cluster c : clusters) {
            for (Server s : c.servers()) {
                if (s.activeConnections() != 0 || s.activeRequests() != 0 || s.pooledConnections() != 0
                        || s.slotsInUse() != 0) {
                    held.add(s + " connections=" + s.activeConnections() + " requests=" + s.activeRequests()
                            + " pooled=" + s.pooledConnections() + " slots=" + s.slotsInUse());
                }
            }
        }
        if (!held.isEmpty()) {
            log.warn("load leases not given back after shutdown: {}", held);
            if (Boolean.getBoolean("sluice.strictLeases")) {
                throw new IllegalStateException("load leases not given back after shutdown: " + held);
            }
        }
    }
}
