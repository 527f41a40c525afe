package io.sluice.cluster;

import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves server host names and looks up clusters' SRV names on a thread of its own, never on an event loop,
 * and again every {@code dns_refresh} (an SRV name sooner when its records' TTL is shorter, at most once a
 * second). A server whose name has never resolved is not eligible; one whose name stops resolving keeps its
 * last address, and an SRV name whose lookup fails keeps its last answer, as a DNS outage should not empty a
 * cluster. The servers an SRV answer names go to {@link Discovery} on the control thread, with the addresses
 * the answer carried (or looked up here).
 */
public final class ServerResolver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerResolver.class);
    /** How often SRV names are checked for a TTL that ran out before the next round. */
    private static final Duration SRV_TICK = Duration.ofSeconds(1);

    /** Read at every round, so clusters and servers added while running are resolved too. */
    private final Supplier<? extends Collection<Cluster>> clusters;
    private final Discovery discovery;
    private final Executor control;
    private final ScheduledExecutorService executor;
    /** Made at the first lookup: a process without host names or SRV names opens no DNS socket or thread. */
    private volatile DnsClient dns;
    private List<HostPort> dnsServers;
    /** Each SRV name's state; touched on the resolver's thread only. */
    private final Map<SrvKey, SrvState> srv = new HashMap<>();
    private volatile Duration refresh = Duration.ofSeconds(30);
    private boolean refreshing;
    private ScheduledFuture<?> rounds;

    private record SrvKey(String cluster, String name) {
    }

    private static final class SrvState {
        long dueNanos;
        boolean resolved;
        DnsResolutions.Result lastResult;
        /** The target:port labels of the last answer: their addresses come with each lookup. */
        Set<String> labels = Set.of();
    }

    public ServerResolver(Supplier<? extends Collection<Cluster>> clusters, Discovery discovery, Executor control,
                          List<HostPort> dnsServers) {
        this.clusters = clusters;
        this.discovery = discovery;
        this.control = control;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-dns");
            t.setDaemon(true);
            return t;
        });
        this.dnsServers = dnsServers;
    }

    /** Resolves every name once (waiting at most {@code firstRoundLimit}), then keeps refreshing. */
    public synchronized void start(Duration refresh, Duration firstRoundLimit) {
        if (refreshing || !needsResolution()) {
            return;
        }
        refreshing = true;
        this.refresh = refresh;
        java.util.concurrent.Future<?> first = executor.submit(this::resolveAll);
        // Zero: a reload adding the first host names, which join as they resolve; nobody waits.
        if (!firstRoundLimit.isZero()) {
            try {
                first.get(firstRoundLimit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                log.warn("first DNS round not finished after {} ms; servers join as their names resolve",
                        firstRoundLimit.toMillis());
            }
        }
        rounds = executor.scheduleWithFixedDelay(this::resolveAll, refresh.toMillis(), refresh.toMillis(),
                TimeUnit.MILLISECONDS);
        executor.scheduleWithFixedDelay(() -> lookUpSrv(false), SRV_TICK.toMillis(), SRV_TICK.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    /** Resolves every name now, off the caller's thread (a reload may have added host names). */
    public void resolveSoon() {
        if (needsResolution()) {
            executor.execute(this::resolveAll);
        }
    }

    /** Resolves at a new pace from now on (a reload changed {@code dns_refresh}). */
    public synchronized void refreshEvery(Duration refresh) {
        this.refresh = refresh;
        if (rounds != null) {
            rounds.cancel(false);
            rounds = executor.scheduleWithFixedDelay(this::resolveAll, refresh.toMillis(), refresh.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Asks these DNS servers from now on (a reload changed {@code runtime.dns_servers}; empty: the system's). */
    public void useDnsServers(List<HostPort> dnsServers) {
        executor.execute(() -> {
            this.dnsServers = dnsServers;
            if (dns != null) {
                dns.use(dnsServers);
            }
        });
    }

    /** On the resolver's thread only. */
    private DnsClient dns() {
        if (dns == null) {
            dns = new DnsClient(dnsServers);
        }
        return dns;
    }

    private boolean needsResolution() {
        for (Cluster c : clusters.get()) {
            if (!c.config().srv().isEmpty()) {
                return true;
            }
            for (Server s : c.servers()) {
                if (!s.address().isLiteral()) {
                    return true;
                }
            }
        }
        return false;
    }

    private void resolveAll() {
        try {
            resolveHostNames();
            lookUpSrv(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing
        }
    }

    private void resolveHostNames() throws InterruptedException {
        for (Cluster c : clusters.get()) {
            for (Server s : c.servers()) {
                if (s.address().isLiteral() || discovered(c, s)) {
                    continue;
                }
                try {
                    InetAddress a = dns().resolve(s.address().host());
                    c.setResolved(s, new InetSocketAddress(a, s.address().port()));
                } catch (UnknownHostException e) {
                    log.warn("{}: cannot resolve {}{}", s, s.address().host(),
                            s.resolved() == null ? " (not eligible until it resolves)" : " (keeping last address)");
                }
            }
        }
    }

    /** A server an SRV answer named: resolved with each lookup of its name, not by these rounds. */
    private boolean discovered(Cluster c, Server s) {
        for (Map.Entry<SrvKey, SrvState> e : srv.entrySet()) {
            if (e.getKey().cluster().equals(c.name()) && e.getValue().labels.contains(s.label())) {
                return true;
            }
        }
        return false;
    }

    /** Looks up the SRV names that are due ({@code all}: every one), and forgets names no cluster has now. */
    private void lookUpSrv(boolean all) {
        Set<SrvKey> wanted = new HashSet<>();
        try {
            for (Cluster c : clusters.get()) {
                for (String name : c.config().srvNames()) {
                    SrvKey key = new SrvKey(c.name(), name);
                    wanted.add(key);
                    SrvState state = srv.computeIfAbsent(key, k -> new SrvState());
                    if (all || System.nanoTime() - state.dueNanos >= 0) {
                        lookUp(c, name, state);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // closing
            return;
        }
        srv.keySet().retainAll(wanted);
    }

    private void lookUp(Cluster c, String name, SrvState state) throws InterruptedException {
        SrvAnswer answer = dns().srv(name);
        c.dnsResolutions().increment(answer.result());
        Duration next = refresh;
        if (answer.succeeded() && answer.ttl().compareTo(next) < 0) {
            next = answer.ttl().compareTo(SRV_TICK) < 0 ? SRV_TICK : answer.ttl();
        }
        state.dueNanos = System.nanoTime() + next.toNanos();
        DnsResolutions.Result was = state.lastResult;
        state.lastResult = answer.result();
        if (!answer.succeeded()) {
            if (was != answer.result()) { // once per change, not once a second
                if (state.resolved) {
                    log.warn("cluster {}: SRV lookup of {} failed ({}); keeping the servers of its last answer",
                            c.name(), name, answer.result().label());
                } else {
                    log.warn("cluster {}: SRV name {} has not resolved ({}); no servers from it until it does",
                            c.name(), name, answer.result().label());
                }
            }
            return;
        }
        if (was != null && was != DnsResolutions.Result.SUCCESS) {
            log.info("cluster {}: SRV name {} resolves again", c.name(), name);
        }
        state.resolved = true;
        List<SrvTarget> targets = new ArrayList<>();
        for (SrvTarget t : answer.targets()) {
            targets.add(t.address() != null || HostPort.parse(t.label()) == null ? t : withLookedUpAddress(t));
        }
        List<ServerConfig> servers = SrvServers.of(targets);
        state.labels = Set.copyOf(servers.stream().map(ServerConfig::label).toList());
        Map<String, InetSocketAddress> addresses = new HashMap<>();
        for (SrvTarget t : targets) {
            if (t.address() != null) {
                addresses.putIfAbsent(t.label(), new InetSocketAddress(t.address(), t.port()));
            }
        }
        control.execute(() -> discovery.discovered(c, name, servers, addresses));
    }

    /**
     * A target the answer gave no address for: looked up now. When that fails it stays without an address
     * (not eligible) until the next lookup of its SRV name: the host-name rounds skip discovered servers.
     */
    private SrvTarget withLookedUpAddress(SrvTarget t) throws InterruptedException {
        try {
            return t.withAddress(dns().resolve(t.host()));
        } catch (UnknownHostException e) {
            log.warn("SRV target {}: cannot resolve {}; not eligible until it resolves", t.label(), t.host());
            return t;
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
        try {
            // A lookup in flight ends at the interrupt; only then is the client no longer in use.
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        DnsClient d = dns;
        if (d != null) {
            d.close();
        }
    }
}
