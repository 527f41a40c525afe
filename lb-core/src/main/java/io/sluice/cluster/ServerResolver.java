package io.sluice.cluster;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves server host names on a thread of its own, never on an event loop (the JDK resolver blocks), and
 * again every {@code dns_refresh}. A server whose name has never resolved is not eligible; one whose name
 * stops resolving keeps its last address, as a DNS outage should not empty a cluster.
 */
public final class ServerResolver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerResolver.class);

    /** Read at every round, so clusters and servers added while running are resolved too. */
    private final Supplier<? extends Collection<Cluster>> clusters;
    private final ScheduledExecutorService executor;
    private boolean refreshing;
    private java.util.concurrent.ScheduledFuture<?> rounds;

    public ServerResolver(Supplier<? extends Collection<Cluster>> clusters) {
        this.clusters = clusters;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sluice-dns");
            t.setDaemon(true);
            return t;
        });
    }

    /** Resolves every name once (waiting at most {@code firstRoundLimit}), then keeps refreshing. */
    public synchronized void start(Duration refresh, Duration firstRoundLimit) {
        if (refreshing || !needsResolution()) {
            return;
        }
        refreshing = true;
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
    }

    /** Resolves every name now, off the caller's thread (a reload may have added host names). */
    public void resolveSoon() {
        if (needsResolution()) {
            executor.execute(this::resolveAll);
        }
    }

    /** Resolves at a new pace from now on (a reload changed {@code dns_refresh}). */
    public synchronized void refreshEvery(Duration refresh) {
        if (rounds != null) {
            rounds.cancel(false);
            rounds = executor.scheduleWithFixedDelay(this::resolveAll, refresh.toMillis(), refresh.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private boolean needsResolution() {
        for (Cluster c : clusters.get()) {
            for (Server s : c.servers()) {
                if (!s.address().isLiteral()) {
                    return true;
                }
            }
        }
        return false;
    }

    private void resolveAll() {
        for (Cluster c : clusters.get()) {
            for (Server s : c.servers()) {
                if (s.address().isLiteral()) {
                    continue;
                }
                try {
                    InetAddress a = InetAddress.getByName(s.address().host());
                    c.setResolved(s, new InetSocketAddress(a, s.address().port()));
                } catch (UnknownHostException e) {
                    log.warn("{}: cannot resolve {}{}", s, s.address().host(),
                            s.resolved() == null ? " (not eligible until it resolves)" : " (keeping last address)");
                }
            }
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
