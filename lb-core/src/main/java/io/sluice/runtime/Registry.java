package io.sluice.runtime;

import io.sluice.cluster.Cluster;
import io.sluice.cluster.Discovery;
import io.sluice.cluster.Server;
import io.sluice.config.ClusterConfig;
import io.sluice.config.ListenerConfig;
import io.sluice.config.ServerConfig;
import io.sluice.http.HttpListener;
import io.sluice.http.Upstream;
import io.sluice.l4.TcpListener;
import io.sluice.net.Listener;
import io.sluice.tls.ServerTls;
import io.sluice.udp.UdpListener;
import io.sluice.tls.UpstreamTlsContexts;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live listeners and clusters of one process, by name. Everything is created and destroyed through here,
 * with its meters and health checks: start-up adds each one, shutdown removes each one, and a configuration
 * change will add, keep or remove each one by the same steps. Mutations run on one thread at a time (start-up,
 * shutdown, the control thread); the forwarding path never reads this class, only the objects it hands out.
 */
public final class Registry implements AutoCloseable, Discovery {
    private static final Logger log = LoggerFactory.getLogger(Registry.class);

    /** How often a TLS listener's certificate files are read to see whether they changed on disk. */
    static final Duration CERTIFICATE_POLL = Duration.ofSeconds(2);

    private final Shared shared;
    private final Map<String, LiveCluster> clusters = new LinkedHashMap<>();
    private final Map<String, LiveListener> listeners = new LinkedHashMap<>();
    /** Listeners taken out by a reload, draining; closed when empty or at their deadline. */
    private final List<LiveListener> retiring = new ArrayList<>();
    /** What the DNS thread iterates: replaced whole on every change, read without the registry's lock. */
    private volatile List<Cluster> clusterView = List.of();
    /**
     * The listeners in service, replaced whole on every change: /ready and the admin API read it on the admin's
     * event loop, which must not wait for the registry's lock while a reload holds it.
     */
    private volatile List<Listener> listenerView = List.of();

    public Registry(Shared shared) {
        this.shared = shared;
    }

    /**
     * Adds a cluster; {@code tls} is its client TLS context, built beforehand off the event loops (null when
     * the cluster has no tls).
     */
    public synchronized Cluster addCluster(ClusterConfig config, UpstreamTlsContexts.Built tls) {
        if (clusters.containsKey(config.name())) {
            throw new IllegalStateException("cluster " + config.name() + " exists");
        }
        LiveCluster c = LiveCluster.create(shared, config, tls);
        clusters.put(config.name(), c);
        publishView();
        return c.cluster();
    }

    /**
     * Removes a cluster no listener routes to any more: its checks and meters go, idle pooled connections
     * close, and connections still carrying a request finish.
     */
    public synchronized void removeCluster(String name) {
        LiveCluster c = clusters.remove(name);
        if (c != null) {
            publishView();
            c.close();
        }
    }

    /**
     * Applies a changed configuration to an existing cluster, with its TLS context built again from the files
     * (null without tls); returns what changed.
     */
    public synchronized List<String> reconfigureCluster(ClusterConfig config, UpstreamTlsContexts.Built tls) {
        return live(config.name()).reconfigure(config, tls);
    }

    /**
     * An SRV name's servers, from the resolver: applied to the cluster as a reload applies a changed server
     * list. Ignored when the cluster was removed or replaced meanwhile.
     */
    @Override
    public synchronized void discovered(Cluster cluster, String srvName, List<ServerConfig> servers,
                                        Map<String, java.net.InetSocketAddress> addresses) {
        LiveCluster c = clusters.get(cluster.name());
        if (c == null || c.cluster() != cluster) {
            return;
        }
        for (String change : c.discovered(srvName, servers, addresses)) {
            log.info("SRV {}: {}", srvName, change);
        }
    }

    /** Adds a server to a running cluster; it takes work once its pools, meters and health target exist. */
    public synchronized Server addServer(String cluster, ServerConfig config) {
        LiveCluster c = live(cluster);
        if (c.cluster().server(config.label()) != null) {
            throw new IllegalArgumentException("cluster " + cluster + " already has server " + config.label());
        }
        return c.addServer(config);
    }

    /**
     * Takes the server labelled {@code label} out of a running cluster: no new work goes to it, work in flight
     * finishes, its idle pooled connections close, and its meters and health checks go away.
     */
    public synchronized void removeServer(String cluster, String label) {
        LiveCluster c = live(cluster);
        Server s = c.cluster().server(label);
        if (s == null) {
            throw new IllegalArgumentException("no server " + label + " in cluster " + cluster);
        }
        c.removeServer(s);
    }

    private LiveCluster live(String cluster) {
        LiveCluster c = clusters.get(cluster);
        if (c == null) {
            throw new IllegalArgumentException("no cluster " + cluster);
        }
        return c;
    }

    /**
     * Creates, binds and meters a listener for {@code config}, whose clusters must exist. A bind that fails
     * leaves nothing behind and throws.
     */
    public synchronized Listener addListener(ListenerConfig config) throws InterruptedException {
        if (listeners.containsKey(config.name())) {
            throw new IllegalStateException("listener " + config.name() + " exists");
        }
        // Files read and contexts built here, off the event loops; a TlsFileException leaves nothing behind.
        ServerTls tls = config.tls() == null ? null : ServerTls.open(config.name(), config.tls());
        Listener listener;
        LiveListener live;
        try {
            if (config.protocol() == ListenerConfig.Protocol.UDP) {
                listener = new UdpListener(config, clusters.get(config.cluster()).cluster(), shared.transport(),
                        shared.allocator());
            } else if (config.protocol() == ListenerConfig.Protocol.HTTP) {
                listener = new HttpListener(config, upstreams(config), shared.transport(), shared.allocator(), tls,
                        shared.rawHttpFront());
            } else {
                listener = new TcpListener(config, liveClusters(config), shared.transport(), shared.allocator(), tls,
                        shared.rawTcpRelay());
            }
            live = new LiveListener(listener, shared.metrics().bind(listener));
        } catch (RuntimeException e) {
            if (tls != null) {
                tls.close(); // its contexts would otherwise outlive a listener that never was
            }
            throw e;
        }
        try {
            listener.start(shared.workers());
        } catch (InterruptedException | RuntimeException e) {
            live.close();
            throw e;
        }
        if (tls != null) {
            tls.watch(shared.control(), CERTIFICATE_POLL);
        }
        listeners.put(config.name(), live);
        publishListeners();
        return listener;
    }

    private static List<String> routedClusters(ListenerConfig config) {
        Set<String> names = new LinkedHashSet<>();
        names.add(config.cluster());
        config.routes().forEach(r -> names.add(r.cluster()));
        config.sniRoutes().forEach(r -> names.add(r.cluster()));
        return List.copyOf(names);
    }

    /** Stops a listener at once and closes its connections (a drain, if any, happened before). */
    public synchronized void removeListener(String name) {
        LiveListener l = listeners.remove(name);
        publishListeners();
        if (l != null) {
            l.close();
        }
    }

    /**
     * Takes a listener out of service the way a reload does: it stops accepting now (HTTP keep-alive
     * connections are told to close after their current response, idle ones close), its open connections get
     * up to {@code drain} to finish on the control thread's watch, and what is left is then closed. Its
     * series go at once: a listener of the same name may start right away, and its series must be its own.
     */
    public synchronized void retireListener(String name, Duration drain) {
        Paused p = pause(name);
        if (p != null) {
            retire(p, drain);
        }
    }

    /** A listener that let go of its socket for a reload; the reload either retires or resumes it. */
    public static final class Paused {
        private final LiveListener live;

        private Paused(LiveListener live) {
            this.live = live;
        }

        public ListenerConfig config() {
            return live.listener().config();
        }
    }

    /**
     * Takes a listener out of the registry and closes its listening socket, and nothing else: its connections
     * carry on untouched, its counts stay. Its series go (another listener may take its name); null when there
     * is no such listener.
     */
    public synchronized Paused pause(String name) {
        LiveListener l = listeners.remove(name);
        publishListeners();
        if (l == null) {
            return null;
        }
        l.meters().close();
        l.listener().pauseAccepting();
        return new Paused(l);
    }

    /** A reload was rejected: the paused listener binds its address again and is back as it was. */
    public synchronized void resume(Paused p) throws InterruptedException {
        Listener listener = p.live.listener();
        listener.resumeAccepting(shared.workers());
        listeners.put(listener.name(), new LiveListener(listener, shared.metrics().bind(listener)));
        publishListeners();
    }

    /** The reload went through: the paused listener drains (see {@link #retireListener}). */
    public synchronized void retire(Paused p, Duration drain) {
        LiveListener l = p.live;
        l.listener().stopAccepting();
        retiring.add(l);
        long deadline = System.nanoTime() + drain.toNanos();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            if (l.listener().stats().active() > 0 && System.nanoTime() < deadline) {
                shared.control().schedule(check[0], 100, TimeUnit.MILLISECONDS);
                return;
            }
            synchronized (this) {
                if (retiring.remove(l)) {
                    l.close();
                }
            }
        };
        shared.control().execute(check[0]);
    }

    /** Listeners a reload took out that still drain. */
    public synchronized int retiringListeners() {
        return retiring.size();
    }

    /**
     * Gives a kept listener (same name, bind and protocol) its new settings for connections accepted from now
     * on; its socket, and with it its accept queue, stays open throughout.
     */
    public synchronized void reconfigureListener(ListenerConfig next) {
        LiveListener live = listeners.get(next.name());
        if (live == null) {
            throw new IllegalArgumentException("no listener " + next.name());
        }
        if (live.listener() instanceof TcpListener tcp) {
            tcp.reconfigure(next, liveClusters(next));
            // SNI route series follow the routes; their counts live in the listener, which keeps them.
            live.meters().close();
            listeners.put(next.name(), new LiveListener(tcp, shared.metrics().bind(tcp)));
            publishListeners();
        } else if (live.listener() instanceof UdpListener udp) {
            udp.reconfigure(next, clusters.get(next.cluster()).cluster());
        } else if (live.listener() instanceof HttpListener http) {
            http.reconfigure(next, upstreams(next));
            // Route series follow the routes; their counts live in the routes, which keep them across this.
            live.meters().close();
            listeners.put(next.name(), new LiveListener(http, shared.metrics().bind(http)));
            publishListeners();
        }
    }

    private Map<String, Cluster> liveClusters(ListenerConfig config) {
        Map<String, Cluster> live = new HashMap<>();
        for (String name : routedClusters(config)) {
            live.put(name, clusters.get(name).cluster());
        }
        return live;
    }

    /**
     * Reads a kept TLS listener's certificate files again and builds what {@code next} asks for, changing nothing
     * yet; throws {@link io.sluice.tls.TlsFileException} when they cannot be used.
     */
    public synchronized ServerTls.Prepared prepareTls(ListenerConfig next) {
        LiveListener live = listeners.get(next.name());
        ServerTls tls = live == null ? null : tlsOf(live.listener());
        if (tls == null) {
            throw new IllegalArgumentException("no TLS listener " + next.name());
        }
        return tls.prepare(next.tls());
    }

    private static ServerTls tlsOf(Listener l) {
        if (l instanceof HttpListener http) {
            return http.tls();
        }
        return l instanceof TcpListener tcp ? tcp.tls() : null;
    }

    private Map<String, Upstream> upstreams(ListenerConfig config) {
        Map<String, Upstream> upstreams = new LinkedHashMap<>();
        for (String name : routedClusters(config)) {
            LiveCluster c = clusters.get(name);
            c.servedOverHttp();
            upstreams.put(name, c.upstream());
        }
        return upstreams;
    }

    /** The settings a listener runs under now, or null when there is no such listener. */
    public synchronized ListenerConfig listenerConfig(String name) {
        LiveListener l = listeners.get(name);
        return l == null ? null : l.listener().config();
    }

    /** The configuration a cluster runs under now, or null when there is no such cluster. */
    public synchronized ClusterConfig clusterConfig(String name) {
        LiveCluster c = clusters.get(name);
        return c == null ? null : c.declared();
    }

    public synchronized List<String> clusterNames() {
        return new ArrayList<>(clusters.keySet());
    }

    public synchronized List<String> listenerNames() {
        return new ArrayList<>(listeners.keySet());
    }

    public List<Listener> listeners() {
        return listenerView;
    }

    /** Connections still open on listeners a reload took out, draining. */
    public synchronized int retiringConnections() {
        int n = 0;
        for (LiveListener l : retiring) {
            n += l.listener().stats().active();
        }
        return n;
    }

    public synchronized Listener listener(String name) {
        LiveListener l = listeners.get(name);
        return l == null ? null : l.listener();
    }

    public synchronized Cluster cluster(String name) {
        LiveCluster c = clusters.get(name);
        return c == null ? null : c.cluster();
    }

    public List<Cluster> clusters() {
        return clusterView;
    }

    private void publishListeners() {
        List<Listener> view = new ArrayList<>(listeners.size());
        listeners.values().forEach(l -> view.add(l.listener()));
        listenerView = List.copyOf(view);
    }

    private void publishView() {
        List<Cluster> view = new ArrayList<>(clusters.size());
        clusters.values().forEach(c -> view.add(c.cluster()));
        clusterView = List.copyOf(view);
    }

    /**
     * Closes every connection first, client and server side, while the event loops still run (a channel left
     * for a loop's own teardown can lose the buffer of its pending io_uring read), then the listeners and
     * clusters themselves.
     */
    @Override
    public synchronized void close() {
        List<LiveListener> all = new ArrayList<>(listeners.values());
        all.addAll(retiring);
        for (LiveListener l : all) {
            l.listener().stopAccepting();
            l.listener().closeConnections();
        }
        for (LiveListener l : retiring) {
            l.close();
        }
        retiring.clear();
        for (LiveCluster c : clusters.values()) {
            c.closeConnections();
        }
        for (String name : new ArrayList<>(listeners.keySet())) {
            removeListener(name);
        }
        for (String name : new ArrayList<>(clusters.keySet())) {
            removeCluster(name);
        }
    }
}
