package io.sluice.config;

import java.util.List;

/** The whole validated config: immutable, replaced as one object on reload. */
public record SluiceConfig(RuntimeConfig runtime, AdminConfig admin, List<ListenerConfig> listeners,
                           List<ClusterConfig> clusters) {

    public SluiceConfig {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
    }

    public ClusterConfig cluster(String name) {
        for (ClusterConfig c : clusters) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no cluster " + name);
    }
}
