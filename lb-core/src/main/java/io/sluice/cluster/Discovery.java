package io.sluice.cluster;

import io.sluice.config.ServerConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * Where the servers an SRV name stands for go: the runtime applies them the way a reload applies a changed
 * server list, so targets that stay keep their state, connections and pools.
 */
public interface Discovery {
    /**
     * {@code srvName} of {@code cluster} now names {@code servers}, at the {@code addresses} known for them (by
     * label; a server missing there waits for its address); called on the control thread.
     */
    void discovered(Cluster cluster, String srvName, List<ServerConfig> servers,
                    Map<String, InetSocketAddress> addresses);
}
