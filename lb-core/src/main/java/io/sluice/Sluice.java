package io.sluice;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.sluice.admin.AdminServer;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.HealthWiring;
import io.sluice.cluster.ServerResolver;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.http.HttpListener;
import io.sluice.http.Upstream;
import io.sluice.net.Listener;
import io.sluice.l4.TcpListener;
import io.sluice.net.Transport;
import io.sluice.metrics.Metrics;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running load balancer built from one {@link SluiceConfig}: event loops, clusters, listeners, metrics and
 * the admin endpoint. {@link #start} returns once every socket is bound; {@link #shutdown} drains.
 */
public final class Sluice implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sluice.class);

    private final SluiceConfig config;
    private final Transport transport;
    private final EventLoopGroup workers;
    private final EventLoopGroup adminGroup;
    private final Map<String, Cluster> clusters = new LinkedHashMap<>();
    private final List<Listener> listeners = new ArrayList<>();
    private final Map<String, Upstream> upstreams = new LinkedHashMap<>();
    private final Metrics metrics;
    private final ServerResolver resolver;
    private final ScheduledExecutorService control;
    private final HealthWiring health;
    private final AdminServer admin;
    private volatile boolean draining;
    private boolean stopped;

    private Sluice(SluiceConfig config) {
        this.config = config;
        this.transport = Transport.select(config.runtime().transport());
        PooledByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
        this.metrics = new Metrics(allocator);
        for (ClusterConfig cc : config.clusters()) {
            Cluster cluster = new Cluster(cc);
            clusters.put(cc.name(), cluster);
            metrics.bind(cluster);
            Upstream upstream = new Upstream(cluster, transport, allocator);
            upstreams.put(cc.name(), upstream);
            if (servedOverHttp(config, cc.name())) {
                metrics.bind(upstream);
            }
        }
        for (ListenerConfig lc : config.listeners()) {
            Listener listener = lc.protocol() == ListenerConfig.Protocol.HTTP
                    ? new HttpListener(lc, upstreams, transport, allocator)
                    : new TcpListener(lc, clusters.get(lc.cluster()), transport, allocator);
            listeners.add(listener);
            metrics.bind(listener);
        }
        this.resolver = new ServerResolver(new ArrayList<>(clusters.values()));
        this.workers = transport.newGroup(config.runtime().effectiveWorkerThreads(), "sluice-worker");
        // Picker rebuilds after health events run here, off the event loops.
        this.control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-control");
            t.setDaemon(true);
            return t;
        });
        for (Cluster c : clusters.values()) {
            c.rebuildOn(control);
            if (!c.config().balancer().slowStart().isZero()) {
                // Pickers are frozen snapshots: a slow-start ramp advances only by rebuilding, step by step.
                long step = c.slowStartStep().toMillis();
                control.scheduleWithFixedDelay(c::rebuildIfRamping, step, step, TimeUnit.MILLISECONDS);
            }
        }
        this.health = new HealthWiring(new ArrayList<>(clusters.values()), workers, transport.channelClass(),
                metrics.registry());
        this.adminGroup = config.admin().enabled() ? transport.newGroup(1, "sluice-admin") : null;
        this.admin = config.admin().enabled()
                ? new AdminServer(config.admin().bind(), metrics::scrape, this::ready)
                : null;
    }

    /** Whether an HTTP listener routes to the cluster: only then does it get the HTTP meters. */
    private static boolean servedOverHttp(SluiceConfig config, String cluster) {
        for (ListenerConfig l : config.listeners()) {
            if (l.protocol() == ListenerConfig.Protocol.HTTP && (l.cluster().equals(cluster)
                    || l.routes().stream().anyMatch(r -> cluster.equals(r.cluster())))) {
                return true;
            }
        }
        return false;
    }

    /** Builds and binds everything; on any failure, releases what was started and rethrows. */
    public static Sluice start(SluiceConfig config) throws Exception {
        Sluice s = new Sluice(config);
        try {
            s.resolver.start(config.runtime().dnsRefresh(), Duration.ofSeconds(5));
            if (s.admin != null) {
                s.admin.start(s.adminGroup, s.transport);
            }
            for (Listener l : s.listeners) {
                l.start(s.workers);
            }
        } catch (Exception e) {
            s.close();
            throw e;
        }
        log.info("sluice ready: {} listener(s), {} cluster(s), transport {}, {} worker thread(s){}",
                s.listeners.size(), s.clusters.size(), s.transport.name(),
                config.runtime().effectiveWorkerThreads(),
                s.admin != null ? ", admin on http://" + hostPort(s.admin.localAddress()) : "");
        return s;
    }

    private static String hostPort(InetSocketAddress a) {
        return a.getHostString() + ":" + a.getPort();
    }

    /** Every listener bound and not draining. */
    public boolean ready() {
        if (draining) {
            return false;
        }
        for (Listener l : listeners) {
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
        for (Listener l : listeners) {
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
        for (Listener l : listeners) {
            l.closeConnections();
        }
        for (Upstream u : upstreams.values()) {
            u.closeConnections();
        }
        for (Listener l : listeners) {
            l.close();
        }
        if (admin != null) {
            admin.stop();
        }
        resolver.close();
        health.close();
        control.shutdownNow();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (adminGroup != null) {
            adminGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        metrics.close();
        checkLeases();
        log.info("sluice stopped");
    }

    /**
     * Every connection and request is closed by now, so every lease must have been given back: a count left
     * above zero is a path that forgot one, and would have skewed the load-aware algorithms for good. Tests run
     * with {@code -Dsluice.strictLeases=true}, which turns the warning into a failure.
     */
    private void checkLeases() {
        List<String> held = new ArrayList<>();
        for (Cluster c : clusters.values()) {
            for (io.sluice.cluster.Server s : c.servers()) {
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

    private int openConnections() {
        int n = 0;
        for (Listener l : listeners) {
            n += l.stats().active();
        }
        return n;
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
        return clusters.get(name);
    }

    public List<Listener> listeners() {
        return List.copyOf(listeners);
    }

    public Listener listener(String name) {
        for (Listener l : listeners) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        throw new IllegalArgumentException("no listener " + name);
    }

    /** The admin endpoint's bound address, or null when disabled. */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.localAddress();
    }
}
