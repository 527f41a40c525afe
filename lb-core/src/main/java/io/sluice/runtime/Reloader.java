package io.sluice.runtime;

import io.sluice.config.ClusterConfig;
import io.sluice.config.ConfigError;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.tls.ServerTls;
import io.sluice.tls.TlsFileException;
import io.sluice.tls.UpstreamTlsContexts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a new, fully validated configuration to the running registry as a diff: what stayed the same is not
 * touched (its sockets, connections, pools, health state and counters carry on), what changed takes its new
 * settings for new work, what is new starts, what is gone drains. Every new socket is bound before anything
 * else changes, so a bind that fails rejects the reload with nothing changed. Runs on one thread at a time,
 * never an event loop.
 */
public final class Reloader {
    private static final Logger log = LoggerFactory.getLogger(Reloader.class);

    private final Registry registry;

    public Reloader(Registry registry) {
        this.registry = registry;
    }

    /** Applies {@code next} in place of {@code current}; on a failed bind, changes nothing and says why. */
    public synchronized ReloadResult apply(SluiceConfig current, SluiceConfig next) {
        List<String> changes = new ArrayList<>();
        List<String> restart = new ArrayList<>();
        runtimeChanges(current, next, changes, restart);
        Duration drain = next.runtime().drainTimeout();

        Map<String, UpstreamTlsContexts.Built> tls;
        try {
            // Every cluster's TLS files are read again (rotated certificates are picked up by any reload), and
            // before anything changes: a bad file rejects the reload with nothing changed.
            tls = UpstreamTlsContexts.buildAll(next.clusters());
        } catch (UpstreamTlsContexts.BuildFailure e) {
            return ReloadResult.rejected(e.errors());
        } catch (IllegalArgumentException e) {
            return ReloadResult.rejected(List.of(new ConfigError("", 0, 0, "TLS: " + describe(e))));
        }
        List<String> addedClusters = new ArrayList<>();
        List<String> addedListeners = new ArrayList<>();
        List<Registry.Paused> paused = new ArrayList<>();
        List<ServerTls.Prepared> certificates = new ArrayList<>();
        try {
            // Certificate files are read again on every reload, YAML changed or not; new listeners read theirs
            // when they are added below. Nothing is in force until every one of them has been read and built.
            for (ListenerConfig lc : next.listeners()) {
                ListenerConfig old = registry.listenerConfig(lc.name());
                if (old != null && sameSocket(old, lc) && lc.tls() != null) {
                    certificates.add(registry.prepareTls(lc));
                }
            }
            for (ClusterConfig cc : next.clusters()) {
                if (registry.clusterConfig(cc.name()) == null) {
                    registry.addCluster(cc, tls.get(cc.name()));
                    addedClusters.add(cc.name());
                }
            }
            // Sockets first: every new bind must succeed before anything running is touched. Listeners whose
            // address or protocol changed, and listeners that hold an address a new one needs, let go of
            // their socket first (a moment without one, on that address only).
            for (int i = 0; i < next.listeners().size(); i++) {
                ListenerConfig lc = next.listeners().get(i);
                ListenerConfig old = registry.listenerConfig(lc.name());
                if (old != null && sameSocket(old, lc)) {
                    continue;
                }
                List<String> holders = holdersOf(lc, next);
                if (old != null && !holders.contains(lc.name())) {
                    holders.add(lc.name());
                }
                for (String holder : holders) {
                    // Only the socket goes for now: if a later bind fails, this listener takes its address back
                    // as if nothing happened; if all succeed, it drains.
                    paused.add(registry.pause(holder));
                }
                try {
                    registry.addListener(lc);
                } catch (TlsFileException e) {
                    throw e;
                } catch (Exception e) {
                    throw new BindFailure(new ConfigError("listeners[" + i + "].bind", 0, 0,
                            "cannot bind " + lc.bind() + ": " + describe(e)));
                }
                addedListeners.add(lc.name());
                changes.add(old == null ? "listener " + lc.name() + " added on " + lc.bind()
                        : "listener " + lc.name() + " moved to " + lc.protocol().name().toLowerCase(Locale.ROOT)
                        + " on " + lc.bind() + "; the old socket's connections drain");
            }
        } catch (RuntimeException f) {
            certificates.forEach(ServerTls.Prepared::discard);
            for (String l : addedListeners) {
                registry.removeListener(l);
            }
            restore(paused, drain);
            for (String c : addedClusters) {
                registry.removeCluster(c);
            }
            if (f instanceof TlsFileException t) {
                return ReloadResult.rejected(t.errors());
            }
            ConfigError error = f instanceof BindFailure b ? b.error
                    : new ConfigError("", 0, 0, "could not apply: " + describe(f));
            return ReloadResult.rejected(List.of(error));
        }
        try {
            for (Registry.Paused p : paused) {
                registry.retire(p, drain);
            }
            addedClusters.forEach(c -> changes.add("cluster " + c + " added"));

            for (ClusterConfig cc : next.clusters()) {
                ClusterConfig old = registry.clusterConfig(cc.name());
                if (!addedClusters.contains(cc.name()) && (!old.equals(cc) || cc.tls() != null)) {
                    changes.addAll(registry.reconfigureCluster(cc, tls.get(cc.name())));
                }
            }
            for (ListenerConfig lc : next.listeners()) {
                ListenerConfig old = registry.listenerConfig(lc.name());
                if (!addedListeners.contains(lc.name()) && old != null && !old.equals(lc)) {
                    registry.reconfigureListener(lc);
                    changes.add("listener " + lc.name() + ": settings changed for new connections and requests");
                }
            }
            for (ServerTls.Prepared p : certificates) {
                if (p.changed()) {
                    changes.add("listener " + p.listener() + ": certificates re-read, new handshakes use them");
                }
                p.apply();
            }
            for (String name : registry.listenerNames()) {
                if (next.listeners().stream().noneMatch(l -> l.name().equals(name))) {
                    registry.retireListener(name, drain);
                    changes.add("listener " + name + " removed; its connections drain");
                }
            }
            for (Registry.Paused gone : paused) {
                if (next.listeners().stream().noneMatch(l -> l.name().equals(gone.config().name()))) {
                    changes.add("listener " + gone.config().name() + " removed; its connections drain");
                }
            }
            for (String name : registry.clusterNames()) {
                if (next.clusters().stream().noneMatch(c -> c.name().equals(name))) {
                    registry.removeCluster(name);
                    changes.add("cluster " + name + " removed");
                }
            }
        } catch (RuntimeException e) {
            certificates.forEach(ServerTls.Prepared::discard); // those not applied yet: freed, not leaked
            // Every socket is bound and the configs were validated, so this is a bug or a resource problem:
            // say plainly that part of the change is in force, rather than pretend it was all or nothing.
            log.error("reload failed after some changes were applied: {}", changes, e);
            return ReloadResult.rejected(List.of(new ConfigError("", 0, 0, "failed after applying " + changes
                    + ": " + describe(e) + "; fix the cause and reload again")));
        }
        return new ReloadResult(true, changes, restart, List.of());
    }

    private static void runtimeChanges(SluiceConfig current, SluiceConfig next, List<String> changes,
                                       List<String> restart) {
        if (current.runtime().tcpRelay() != next.runtime().tcpRelay()) {
            restart.add("runtime.tcp_relay: " + current.runtime().tcpRelay().name().toLowerCase(Locale.ROOT) + " -> "
                    + next.runtime().tcpRelay().name().toLowerCase(Locale.ROOT) + " (takes effect at the next start)");
        }
        if (current.runtime().httpFront() != next.runtime().httpFront()) {
            restart.add("runtime.http_front: " + current.runtime().httpFront().name().toLowerCase(Locale.ROOT) + " -> "
                    + next.runtime().httpFront().name().toLowerCase(Locale.ROOT) + " (takes effect at the next start)");
        }
        if (current.runtime().transport() != next.runtime().transport()) {
            restart.add("runtime.transport: " + current.runtime().transport().name().toLowerCase(Locale.ROOT) + " -> "
                    + next.runtime().transport().name().toLowerCase(Locale.ROOT) + " (takes effect at the next start)");
        }
        if (current.runtime().workerThreads() != next.runtime().workerThreads()) {
            restart.add("runtime.worker_threads: " + current.runtime().workerThreads() + " -> "
                    + next.runtime().workerThreads() + " (takes effect at the next start)");
        }
        if (!current.runtime().drainTimeout().equals(next.runtime().drainTimeout())) {
            changes.add("runtime.drain_timeout: " + current.runtime().drainTimeout() + " -> "
                    + next.runtime().drainTimeout());
        }
        if (!current.runtime().dnsRefresh().equals(next.runtime().dnsRefresh())) {
            changes.add("runtime.dns_refresh: " + current.runtime().dnsRefresh() + " -> " + next.runtime().dnsRefresh());
        }
        if (!current.runtime().dnsServers().equals(next.runtime().dnsServers())) {
            changes.add("runtime.dns_servers: " + current.runtime().dnsServers() + " -> " + next.runtime().dnsServers());
        }
        if (current.runtime().logFormat() != next.runtime().logFormat()) {
            changes.add("runtime.log_format: " + current.runtime().logFormat().name().toLowerCase(Locale.ROOT) + " -> "
                    + next.runtime().logFormat().name().toLowerCase(Locale.ROOT));
        }
        if (current.runtime().logLevel() != next.runtime().logLevel()) {
            changes.add("runtime.log_level: " + current.runtime().logLevel().name().toLowerCase(Locale.ROOT) + " -> "
                    + next.runtime().logLevel().name().toLowerCase(Locale.ROOT));
        }
    }

    /**
     * Bind address and protocol (and the relay mode, whether it speaks TLS, and a udp listener's datagram size)
     * unchanged: the listener keeps its socket. The datagram size is the socket's: Netty keeps the receive buffer
     * size a socket first read with, so a new size needs a new socket.
     */
    private static boolean sameSocket(ListenerConfig a, ListenerConfig b) {
        return a.bind().equals(b.bind()) && a.protocol() == b.protocol() && a.splice() == b.splice()
                && (a.tls() == null) == (b.tls() == null) && datagramSize(a) == datagramSize(b);
    }

    private static int datagramSize(ListenerConfig c) {
        return c.udp() == null ? 0 : c.udp().maxDatagramSize();
    }

    /** Running listeners, other than those kept as they are, that hold {@code lc}'s address. */
    private List<String> holdersOf(ListenerConfig lc, SluiceConfig next) {
        List<String> out = new ArrayList<>();
        for (String name : registry.listenerNames()) {
            ListenerConfig running = registry.listenerConfig(name);
            boolean keptAsIs = next.listeners().stream().anyMatch(n -> n.name().equals(name) && sameSocket(running, n));
            if (!keptAsIs && running.bind().port() == lc.bind().port() && running.bind().port() != 0
                    && overlaps(running, lc)) {
                out.add(name);
            }
        }
        return out;
    }

    private static boolean overlaps(ListenerConfig a, ListenerConfig b) {
        boolean udpA = a.protocol() == ListenerConfig.Protocol.UDP;
        boolean udpB = b.protocol() == ListenerConfig.Protocol.UDP;
        if (udpA != udpB) {
            return false; // a TCP and a UDP socket share an address and port without trouble
        }
        return a.bind().host().equals(b.bind().host()) || a.bind().isWildcard() || b.bind().isWildcard();
    }

    /** A bind failed after listeners let go of their sockets: they take them back, connections untouched. */
    private void restore(List<Registry.Paused> paused, Duration drain) {
        for (Registry.Paused p : paused) {
            try {
                registry.resume(p);
            } catch (Exception e) {
                // Something took the address in the moment it was free: the listener cannot serve, and says so.
                log.error("reload rejected, and listener {} could not take back {}: {}; it drains", p.config().name(),
                        p.config().bind(), describe(e));
                registry.retire(p, drain);
            }
        }
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return m != null ? m : e.getClass().getSimpleName();
    }

    /** A new socket could not be bound: the reload is rejected. */
    private static final class BindFailure extends RuntimeException {
        private final ConfigError error;

        BindFailure(ConfigError error) {
            super(error.message(), null, false, false);
            this.error = error;
        }
    }
}
