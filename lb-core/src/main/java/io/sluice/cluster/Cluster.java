package io.sluice.cluster;

import io.sluice.balance.LoadBalancer;
import io.sluice.balance.LoadBalancers;
import io.sluice.balance.PickContext;
import io.sluice.balance.Picker;
import io.sluice.balance.SlowStart;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ServerConfig;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live form of a cluster: its servers and the current picker. Any change to which servers are eligible
 * (health, ejection, DNS) calls {@link #rebuild()}, which builds a new picker off the hot path and publishes
 * it with one volatile write; picks in flight keep using the picker they read.
 */
public final class Cluster {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);

    private final ClusterConfig config;
    /** The current picker holds slow-start weights below full: see {@link #needsRampRebuild()}. */
    private volatile boolean pickerRamping;
    private final List<Server> servers;
    private final LoadBalancer balancer;
    private volatile Picker picker = Picker.EMPTY;

    public Cluster(ClusterConfig config) {
        this.config = config;
        List<Server> list = new ArrayList<>();
        for (ServerConfig sc : config.servers()) {
            list.add(new Server(config.name(), sc));
        }
        this.servers = List.copyOf(list);
        this.balancer = LoadBalancers.create(config.balancer());

        for (Server s : servers) {
            s.latency().decay(config.balancer().ewmaDecay());
        }
        rebuild();
    }

    public String name() {
        return config.name();
    }

    public ClusterConfig config() {
        return config;
    }

    public List<Server> servers() {
        return servers;
    }

    /** Picks a server for new work, or null when none is eligible. */
    public Server pick(PickContext ctx) {
        return picker.pick(ctx);
    }

    /** Recomputes the eligible servers and publishes a new picker. Never called per pick. */
    public synchronized void rebuild() {
        List<Server> primary = new ArrayList<>();
        List<Server> backup = new ArrayList<>();
        for (Server s : servers) {
            if (s.available()) {
                (s.backup() ? backup : primary).add(s);
            }
        }
        // Backup servers take traffic only when no primary server can.
        List<Server> eligible = !primary.isEmpty() ? primary : backup;
        picker = eligible.isEmpty() ? Picker.EMPTY : balancer.newPicker(List.copyOf(eligible));
        if (eligible.isEmpty()) {
            log.warn("cluster {} has no available server", name());
        }
        pickerRamping = SlowStart.anyRamping(eligible, config.balancer().slowStart(), System.nanoTime());
    }

    /**
     * True while the current picker was built with a server inside its {@code slow_start} window. Pickers are
     * immutable snapshots, so a ramp advances only when something calls {@link #rebuild()}: a scheduler (off
     * the event loops) should call {@link #rebuildIfRamping()} every {@link #slowStartStep()}. The last
     * rebuild after the window ends restores full weights and turns this false.
     */
    public boolean needsRampRebuild() {
        return pickerRamping;
    }

    /** Rebuilds the picker when a slow-start ramp is in progress; cheap to call often. */
    public void rebuildIfRamping() {
        if (pickerRamping) {
            rebuild();
        }
    }

    /** How often a ramping cluster should be rebuilt: a tenth of the window, at least 100 ms. */
    public java.time.Duration slowStartStep() {
        return SlowStart.step(config.balancer().slowStart());
    }

    public void setHealthy(Server server, boolean healthy) {
        if (server.healthy() != healthy) {
            server.healthy(healthy);
            rebuild();
        }
    }

    public void setEjected(Server server, boolean ejected) {
        if (server.ejected() != ejected) {
            server.ejected(ejected);
            rebuild();
        }
    }

    void setResolved(Server server, java.net.InetSocketAddress address) {
        if (!address.equals(server.resolved())) {
            server.resolved(address);
            rebuild();
        }
    }
}
