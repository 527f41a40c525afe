package io.sluice;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.sluice.admin.AdminServer;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterHealth;
import io.sluice.cluster.Server;
import io.sluice.cluster.ServerResolver;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.health.HealthChecker;
import io.sluice.metrics.Metrics;
import io.sluice.net.Listener;
import io.sluice.net.LoopIndex;
import io.sluice.net.Transport;
import io.sluice.runtime.Closer;
import io.sluice.runtime.Registry;
import io.sluice.runtime.Shared;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running load balancer built from one {@link SluiceConfig}: the composition root. {@link #start} opens
 * everything in order, each piece registered with a {@link Closer} as soon as it exists, so a failure half way
 * closes exactly what was opened; listeners and clusters live in a {@link Registry}, which adds and removes
 * them (with their meters and health checks) the same way at start-up, shutdown and any change in between.
 */
public final class Sluice implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sluice.class);

    private final SluiceConfig config;
    private final Closer closer = new Closer();
    private Transport transport;
    private Metrics metrics;
    private Registry registry;
    private AdminServer admin;
    private volatile boolean draining;
    private boolean stopped;

    private Sluice(SluiceConfig config) {
        this.config = config;
    }

    /** Builds and binds everything; on any failure, releases what was started and rethrows. */
    public static Sluice start(SluiceConfig config) throws Exception {
        Sluice s = new Sluice(config);
        try {
            s.open();
        } catch (Exception | Error e) {
            s.closer.close();
            throw e;
        }
        return s;
    }

    private void open() throws Exception {
        transport = Transport.select(config.runtime().transport());
        PooledByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
        metrics = closer.add(new Metrics(allocator));
        EventLoopGroup workers = transport.newGroup(config.runtime().effectiveWorkerThreads(), "sluice-worker");
        closer.add(() -> shutdownGroup(workers));
        // Picker rebuilds after health events, slow-start steps and drains run here, off the event loops.
        ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-control");
            t.setDaemon(true);
            return t;
        });
        closer.add(control::shutdownNow);
        HealthChecker health = closer.add(new HealthChecker(workers, transport.channelClass(), new ClusterHealth.Events()));
        Shared shared = new Shared(transport, workers, LoopIndex.assign(workers), allocator, metrics, health, control);
        registry = closer.add(new Registry(shared));
        for (ClusterConfig cc : config.clusters()) {
            registry.addCluster(cc);
        }
        ServerResolver resolver = closer.add(new ServerResolver(registry::clusters));
        resolver.start(config.runtime().dnsRefresh(), Duration.ofSeconds(5));
        if (config.admin().enabled()) {
            EventLoopGroup adminGroup = transport.newGroup(1, "sluice-admin");
            closer.add(() -> shutdownGroup(adminGroup));
            admin = new AdminServer(config.admin().bind(), metrics::scrape, this::ready);
            closer.add(admin::stop);
            admin.start(adminGroup, transport);
        }
        for (ListenerConfig lc : config.listeners()) {
            registry.addListener(lc);
        }
        log.info("sluice ready: {} listener(s), {} cluster(s), transport {}, {} worker thread(s){}",
                config.listeners().size(), config.clusters().size(), transport.name(),
                config.runtime().effectiveWorkerThreads(),
                admin != null ? ", admin on http://" + hostPort(admin.localAddress()) : "");
    }

    private static void shutdownGroup(EventLoopGroup group) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** Every listener bound and not draining. */
    public boolean ready() {
        if (draining) {
            return false;
        }
        for (Listener l : registry.listeners()) {
            if (!l.bound()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Stops accepting, waits up to {@code drain} for open connections to finish, closes what is left, and
     * releases every thread. Safe to call more than once.
     */
    public synchronized void shutdown(Duration drain) {
        if (stopped) {
            return;
        }
        stopped = true;
        draining = true;
        for (Listener l : registry.listeners()) {
            l.stopAccepting();
        }
        long deadline = System.nanoTime() + drain.toNanos();
        int open = openConnections();
        if (open > 0) {
            log.info("draining {} open connection(s) for up to {} ms", open, drain.toMillis());
        }
        while (openConnections() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        open = openConnections();
        if (open > 0) {
            log.info("drain timeout: closing {} connection(s)", open);
        }
        List<Cluster> clusters = registry.clusters();
        closer.close();
        checkLeases(clusters);
        log.info("sluice stopped");
    }

    private int openConnections() {
        int n = 0;
        for (Listener l : registry.listeners()) {
            n += l.stats().active();
        }
        return n;
    }

    /**
     * Every connection and request is closed by now, so every lease must have been given back: a count left
     * above zero is a path that forgot one, and would have skewed the load-aware algorithms for good. Tests run
     * with {@code -Dsluice.strictLeases=true}, which turns the warning into a failure.
     */
    private static void checkLeases(List<Cluster> clusters) {
        List<String> held = new ArrayList<>();
        for (Cluster c : clusters) {
            for (Server s : c.servers()) {
                if (s.activeConnections() != 0 || s.activeRequests() != 0 || s.pooledConnections() != 0) {
                    held.add(s + " connections=" + s.activeConnections() + " requests=" + s.activeRequests()
                            + " pooled=" + s.pooledConnections());
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

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    public SluiceConfig config() {
        return config;
    }

    public Transport transport() {
        return transport;
    }

    public Metrics metrics() {
        return metrics;
    }

    public Cluster cluster(String name) {
        return registry.cluster(name);
    }

    public List<Listener> listeners() {
        return registry.listeners();
    }

    public Listener listener(String name) {
        Listener l = registry.listener(name);
        if (l == null) {
            throw new IllegalArgumentException("no listener " + name);
        }
        return l;
    }

    /** The live listeners, clusters and servers: where runtime changes (admin API, reload) are made. */
    public Registry registry() {
        return registry;
    }

    /** The admin endpoint's bound address, or null when disabled. */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.localAddress();
    }
}
