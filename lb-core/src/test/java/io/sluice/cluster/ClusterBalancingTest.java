package io.sluice.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.balance.PickContext;
import io.sluice.config.BalancerConfig;
import io.sluice.config.ClusterConfig;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The cluster's side of balancing: backups, slow-start rebuilds, and atomic picker swaps. */
class ClusterBalancingTest {

    private static ClusterConfig config(String algorithm, Duration slowStart, ServerConfig... servers) {
        BalancerConfig b = BalancerConfig.of(algorithm).withSlowStart(slowStart);
        // panic_threshold 0: these tests are about backups and rebuilds, not panic mode.
        return new ClusterConfig("c", b, List.of(servers), Duration.ofSeconds(1), 2, null, null, 0,
                io.sluice.config.PoolConfig.DEFAULT, null, null,
                io.sluice.config.ClusterConfig.DEFAULT_PROTOCOL, null, List.of(), io.sluice.config.QueueConfig.DEFAULT);
    }

    private static ServerConfig server(int i, boolean backup) {
        return new ServerConfig(new HostPort("10.1.0." + i, 80), 1, backup);
    }

    private static Set<Server> picked(Cluster c, int picks) {
        Set<Server> out = new HashSet<>();
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < picks; i++) {
            out.add(c.pick(ctx));
        }
        return out;
    }

    @Test
    void backupsServeOnlyWhenNoPrimaryIsAvailable() {
        Cluster c = new Cluster(config("round_robin", Duration.ZERO, server(1, false), server(2, false),
                server(3, true)));
        Server p1 = c.servers().get(0);
        Server p2 = c.servers().get(1);
        Server backup = c.servers().get(2);
        assertThat(picked(c, 30)).containsExactlyInAnyOrder(p1, p2);

        p1.healthy(false);
        c.rebuild();
        assertThat(picked(c, 30)).containsExactly(p2);

        p2.ejected(true);
        c.rebuild();
        assertThat(picked(c, 30)).containsExactly(backup);

        p1.healthy(true);
        c.rebuild();
        assertThat(picked(c, 30)).containsExactly(p1);
    }

    @Test
    void aServerThatComesBackStartsASlowStartRampButStartupDoesNot() {
        Cluster c = new Cluster(config("weighted_round_robin", Duration.ofMinutes(1), server(1, false),
                server(2, false)));
        Server s = c.servers().get(0);
        assertThat(s.availableSinceNanos()).isEqualTo(Server.NOT_RAMPING);
        assertThat(c.needsRampRebuild()).isFalse();

        s.healthy(false);
        c.rebuild();
        s.healthy(true);
        c.rebuild();
        assertThat(s.availableSinceNanos()).isNotEqualTo(Server.NOT_RAMPING);
        assertThat(c.needsRampRebuild()).isTrue();
        // At the start of its ramp the server has a tenth of its weight: about 1 pick in 11.
        int mine = 0;
        PickContext ctx = new PickContext(null);
        for (int i = 0; i < 1100; i++) {
            if (c.pick(ctx) == s) {
                mine++;
            }
        }
        assertThat(mine).isBetween(95, 110);

        // The ramp is over (as if its window had passed): the next rebuild restores full weight and stops.
        s.startSlowStart(System.nanoTime() - Duration.ofMinutes(2).toNanos());
        c.rebuildIfRamping();
        assertThat(c.needsRampRebuild()).isFalse();
        assertThat(c.slowStartStep()).isEqualTo(Duration.ofSeconds(6));
    }

    @Test
    void picksDuringRebuildsAlwaysSeeACompletePicker() throws Exception {
        ServerConfig[] configs = new ServerConfig[20];
        for (int i = 0; i < configs.length; i++) {
            configs[i] = server(i + 1, false);
        }
        Cluster c = new Cluster(config("maglev", Duration.ZERO, configs));
        List<Server> servers = c.servers();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> pickers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        for (int t = 0; t < 2; t++) {
            int seed = t;
            Thread th = new Thread(() -> {
                PickContext ctx = new PickContext(null);
                long k = seed;
                try {
                    while (!done.get()) {
                        ctx.hash(k++ * 0x9E3779B97F4A7C15L);
                        Server s = c.pick(ctx);
                        // Server 0 never leaves: the eligible set is never empty, so null means a torn table.
                        if (s == null || !servers.contains(s)) {
                            throw new AssertionError("picked " + s);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            th.start();
            pickers.add(th);
        }
        for (int round = 0; round < 200; round++) {
            Server s = servers.get(1 + round % 19);
            s.ejected(!s.ejected());
            c.rebuild();
        }
        done.set(true);
        for (Thread th : pickers) {
            th.join(10_000);
        }
        assertThat(failure.get()).isNull();
    }
}
