package io.sluice;

import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.sluice.admin.AdminServer;
import io.sluice.config.TcpRelay;
import io.sluice.http.HttpListener;
import io.sluice.config.AdminToken;
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
import io.sluice.config.ConfigError;
import io.sluice.config.ConfigException;
import io.sluice.metrics.ConfigMeters;
import io.sluice.runtime.Closer;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ConfigWatcher;
import io.sluice.runtime.LogSetup;
import io.sluice.runtime.ReloadResult;
import io.sluice.runtime.Reloader;
import io.sluice.tls.UpstreamTlsContexts;
import io.sluice.runtime.Registry;
import io.sluice.runtime.Shared;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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

    /** The configuration in force: replaced by each applied reload. */
    private volatile SluiceConfig config;
    /** Where reloads read from; null when started from a config in memory (tests, demo). */
    private final ConfigFile file;
    /** The SHA-256 of the file in force; null when started from a config in memory. */
    private volatile String shaInForce;
    private ConfigWatcher watcher;
    private final Closer closer = new Closer();
    private Reloader reloader;
    private ConfigMeters configMeters;
    private ScheduledExecutorService control;
    private ServerResolver resolver;
    private EventLoopGroup adminGroup;
    private Transport transport;
    private Metrics metrics;
    private Registry registry;
    private AdminServer admin;
    private volatile boolean draining;
    private volatile boolean stopped;

    private Sluice(SluiceConfig config, ConfigFile file, String sha256) {
        this.config = config;
        this.file = file;
        this.shaInForce = sha256;
    }

    /** Builds and binds everything; on any failure, releases what was started and rethrows. */
    public static Sluice start(SluiceConfig config) throws Exception {
        return start(config, null, null);
    }

    /**
     * The same, for a config read from {@code file} (whose bytes hash to {@code sha256}): reloads read that
     * file again.
     */
    public static Sluice start(SluiceConfig config, ConfigFile file, String sha256) throws Exception {
        Sluice s = new Sluice(config, file, sha256);
        try {
            s.open();
        } catch (Exception | Error e) {
            s.closer.close();
            throw e;
        }
        return s;
    }

    private void open() throws Exception {
        LogSetup.apply(config.runtime());
        transport = Transport.select(config.runtime().transport());
        PooledByteBufAllocator allocator = PooledByteBufAllocator.DEFAULT;
        metrics = closer.add(new Metrics(allocator));
        configMeters = metrics.configMeters(shaInForce);
        EventLoopGroup workers = transport.newGroup(config.runtime().effectiveWorkerThreads(), "sluice-worker");
        closer.add(() -> shutdownGroup(workers));
        // Picker rebuilds after health events, slow-start steps and drains run here, off the event loops.
        control = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-control");
            t.setDaemon(true);
            return t;
        });
        closer.add(control::shutdownNow);
        HealthChecker health = closer.add(new HealthChecker(workers, transport.channelClass(),
                transport.datagramChannelClass(), new ClusterHealth.Events()));
        Shared shared = new Shared(transport, workers, LoopIndex.assign(workers), allocator, metrics, health, control,
                config.runtime().tcpRelay() == TcpRelay.AUTO, HttpListener.rawFrontAllowed(config.runtime().httpFront()));
        registry = closer.add(new Registry(shared));
        // Files are read here, before any socket opens: a bad certificate fails the start with its key named.
        Map<String, UpstreamTlsContexts.Built> tls = UpstreamTlsContexts.buildAll(config.clusters());
        for (ClusterConfig cc : config.clusters()) {
            registry.addCluster(cc, tls.get(cc.name()));
        }
        reloader = new Reloader(registry);
        resolver = closer.add(new ServerResolver(registry::clusters, registry, control, config.runtime().dnsServers()));
        resolver.start(config.runtime().dnsRefresh(), Duration.ofSeconds(5));
        adminGroup = transport.newGroup(1, "sluice-admin");
        closer.add(() -> shutdownGroup(adminGroup));
        closer.add(() -> {
            AdminServer a = admin;
            if (a != null) {
                a.stop();
            }
        });
        if (config.admin().enabled()) {
            admin = startAdmin(config);
        }
        for (ListenerConfig lc : config.listeners()) {
            registry.addListener(lc);
        }
        closer.add(() -> watch(false));
        watch(config.runtime().watchConfig());
        log.info("sluice ready: {} listener(s), {} cluster(s), transport {}, {} worker thread(s){}",
                config.listeners().size(), config.clusters().size(), transport.name(),
                config.runtime().effectiveWorkerThreads(),
                admin != null ? ", admin on http://" + hostPort(admin.localAddress()) : "");
    }

    private AdminServer startAdmin(SluiceConfig c) throws InterruptedException, java.io.IOException {
        String token = c.admin().tokenFile() == null ? null : AdminToken.read(c.admin().tokenFile());
        AdminServer a = new AdminServer(c.admin(), token, metrics::scrape, this::ready,
                new AdminAccess(this, registry, control));
        a.start(adminGroup, transport);
        return a;
    }

    /**
     * Reads the config file again and applies it (see {@link Reloader}), on the control thread: never on an
     * event loop, and one reload at a time. Completes with what happened; a reload that cannot even be read
     * or validated is rejected with every error, and changes nothing.
     */
    public CompletableFuture<ReloadResult> reloadAsync() {
        CompletableFuture<ReloadResult> done = new CompletableFuture<>();
        try {
            control.execute(() -> {
                try {
                    done.complete(reloadNow());
                } catch (Throwable t) {
                    log.error("reload failed", t);
                    done.completeExceptionally(t);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            done.completeExceptionally(new IllegalStateException("sluice is stopping"));
        }
        return done;
    }

    private ReloadResult reloadNow() {
        if (stopped) {
            return reject(List.of(new ConfigError("", 0, 0, "sluice is stopping")));
        }
        if (file == null) {
            return reject(List.of(new ConfigError("", 0, 0, "started without a config file: nothing to reload")));
        }
        ConfigFile.Loaded loaded;
        try {
            loaded = file.load();
        } catch (ConfigException e) {
            return reject(e.errors());
        } catch (java.io.IOException e) {
            return reject(List.of(new ConfigError("", 0, 0, "cannot read " + file.path() + ": " + e.getMessage())));
        }
        SluiceConfig next = loaded.config();
        loaded.warnings().forEach(w -> log.warn("config reload: {}", w));
        AdminServer newAdmin = null;
        boolean adminChanged = !next.admin().equals(config.admin());
        String rotatedToken = null;
        if (!adminChanged && admin != null && next.admin().tokenFile() != null) {
            try {
                rotatedToken = AdminToken.read(next.admin().tokenFile());
            } catch (java.io.IOException e) {
                return reject(List.of(new ConfigError("admin.token_file", 0, 0, describe(e))));
            }
        }
        if (adminChanged && next.admin().enabled()) {
            try {
                newAdmin = startAdmin(next); // a socket like any other: bound before anything else changes
            } catch (Exception e) {
                return reject(List.of(new ConfigError("admin.bind", 0, 0,
                        "cannot bind " + next.admin().bind() + ": " + describe(e))));
            }
        }
        ReloadResult r = reloader.apply(config, next);
        if (!r.applied()) {
            if (newAdmin != null) {
                newAdmin.stop();
            }
            return reject(r.errors());
        }
        List<String> changes = new ArrayList<>(r.changes());
        if (rotatedToken != null) {
            admin.token(rotatedToken); // a rotated token counts from an applied reload on
        }
        if (adminChanged) {
            AdminServer old = admin;
            admin = newAdmin;
            if (old != null) {
                // Later, not now: the reload may have been asked for through the old endpoint, whose answer is
                // still to be written.
                control.schedule(old::stop, 1, TimeUnit.SECONDS);
            }
            changes.add(next.admin().enabled() ? "admin endpoint on " + next.admin().bind() : "admin endpoint off");
        }
        if (!next.runtime().dnsRefresh().equals(config.runtime().dnsRefresh())) {
            resolver.refreshEvery(next.runtime().dnsRefresh());
        }
        if (!next.runtime().dnsServers().equals(config.runtime().dnsServers())) {
            resolver.useDnsServers(next.runtime().dnsServers());
        }
        resolver.start(next.runtime().dnsRefresh(), Duration.ZERO); // the first host names need the refresh
        resolver.resolveSoon();
        if (next.runtime().watchConfig() != config.runtime().watchConfig()) {
            watch(next.runtime().watchConfig());
        }
        LogSetup.apply(next.runtime());
        config = next;
        shaInForce = loaded.sha256();
        configMeters.applied(loaded.sha256());
        ReloadResult applied = new ReloadResult(true, changes, r.needsRestart(), List.of());
        log.info("config reloaded from {} (sha256 {}): {} change(s){}", file.path(), loaded.sha256(), changes.size(),
                changes.isEmpty() ? "" : ": " + String.join("; ", changes));
        for (String s : r.needsRestart()) {
            log.warn("config reload: {}", s);
        }
        return applied;
    }

    /** Starts or stops {@code runtime.watch_config}'s watcher; on the start-up or control thread. */
    private synchronized void watch(boolean on) {
        if (on && watcher == null && file != null) {
            try {
                watcher = new ConfigWatcher(file.path(), control, () -> shaInForce, this::reloadAsync);
            } catch (java.io.IOException e) {
                log.error("cannot watch {}: {}; reload with SIGHUP or POST /admin/reload", file.path(), describe(e));
            }
        } else if (!on && watcher != null) {
            try {
                watcher.close();
            } catch (java.io.IOException e) {
                log.debug("closing the config watcher: {}", e.toString());
            }
            watcher = null;
        }
    }

    private ReloadResult reject(List<ConfigError> errors) {
        configMeters.rejected();
        log.error("config reload rejected ({} error(s)); the running configuration stays in force", errors.size());
        for (ConfigError e : errors) {
            log.error("  {}", e);
        }
        return ReloadResult.rejected(errors);
    }

    private static void shutdownGroup(EventLoopGroup group) {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
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
        LeaseCheck.afterShutdown(clusters);
        log.info("sluice stopped");
    }

    private int openConnections() {
        int n = registry.retiringConnections();
        for (Listener l : registry.listeners()) {
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
