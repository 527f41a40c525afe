package io.sluice.metrics;

import io.sluice.net.ProxyProtocolStats;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.ClusterQueue;
import io.sluice.cluster.DnsResolutions;
import io.sluice.cluster.Server;
import io.sluice.health.ProbeResult;
import io.sluice.net.ClientLimits;
import io.sluice.net.ListenerStats;
import io.sluice.net.LoopGuard;
import io.micrometer.core.instrument.Timer;
import io.sluice.http.ErrorReason;
import io.sluice.http.GoAwayReason;
import io.sluice.http.GrpcStatus;
import io.sluice.http.HttpListener;
import io.sluice.http.HttpListenerStats;
import io.sluice.http.HttpProtocol;
import io.sluice.http.Route;
import io.sluice.http.ServerPools;
import io.sluice.http.Upstream;
import io.sluice.l4.PassthroughStats;
import io.sluice.l4.TcpListener;
import io.sluice.net.Listener;
import io.sluice.udp.UdpListener;
import io.sluice.udp.UdpStats;
import io.sluice.tls.UpstreamTlsErrors;
import java.time.Duration;

/**
 * The Prometheus registry and Sluice's meters. Meters are function meters over counters the listener and
 * server objects own, so the forwarding path never touches the registry: scraping reads the atomics.
 */
public final class Metrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT,
            new PrometheusRegistry(), new LoopClock());
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** Request-path histograms, recorded per event loop: see {@link LoopTimer}. */
    private final LoopTimers requestDurations = new LoopTimers("sluice_http_request_duration",
            "Time from a request head to the last byte of its response", "cluster",
            Duration.ofMillis(1), Duration.ofSeconds(60), registry.config().clock());
    private final LoopTimers upstreamResponses = new LoopTimers("sluice_http_upstream_response",
            "Time from the last request byte sent to a server until its response head", "cluster",
            Duration.ofMillis(1), Duration.ofSeconds(60), registry.config().clock());

    public Metrics(PooledByteBufAllocator allocator) {
        registry.getPrometheusRegistry().register(requestDurations);
        registry.getPrometheusRegistry().register(upstreamResponses);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new NettyAllocatorMetrics(allocator).bindTo(registry);
        Gauge.builder("sluice.netty.direct.memory.used", PlatformDependent::usedDirectMemory)
                .description("Direct memory Netty has reserved (all allocators), in bytes")
                .baseUnit("bytes").register(registry);
        Gauge.builder("sluice.netty.direct.memory.max", PlatformDependent::maxDirectMemory)
                .description("Direct memory limit Netty works under, in bytes")
                .baseUnit("bytes").register(registry);
        FunctionCounter.builder("sluice.event.loop.errors", LoopGuard.class, c -> LoopGuard.errors())
                .description("Errors that escaped an event loop's IO processing and were caught (the loop went on)")
                .register(registry);
    }

    /** The configuration's series: reloads and the file in force. */
    public ConfigMeters configMeters(String sha256) {
        return new ConfigMeters(registry, sha256);
    }

    /** An empty group, for meters registered one at a time. */
    public MeterGroup newGroup() {
        return new MeterGroup(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The listener's meters: connection counts, and for HTTP listeners requests by route, retries and errors. */
    public MeterGroup bind(Listener listener) {
        MeterGroup g = new MeterGroup(registry);
        Tags tags = Tags.of("listener", listener.name());
        ListenerStats s = listener.stats();
        g.add(Gauge.builder("sluice.listener.connections.active", s, ListenerStats::active).tags(tags)
                .description("Client connections open now").register(registry));
        g.add(FunctionCounter.builder("sluice.listener.connections", s, ListenerStats::total).tags(tags)
                .description("Client connections accepted").register(registry));
        g.add(FunctionCounter.builder("sluice.listener.connections.rejected", s, ListenerStats::rejected).tags(tags)
                .description("Client connections closed at once because max_connections was reached")
                .register(registry));
        g.add(FunctionCounter.builder("sluice.listener.no.server", s, ListenerStats::noServer).tags(tags)
                .description("Client connections closed because no server was available or reachable")
                .register(registry));
        for (ClientLimits.Limit limit : ClientLimits.Limit.values()) {
            g.add(FunctionCounter.builder("sluice.listener.limited", s, st -> st.limited(limit))
                    .tags("listener", listener.name(), "limit", limit.label())
                    .description("Client connections (closed), requests (429) and datagrams (dropped) over the "
                            + "listener's per-client limits")
                    .register(registry));
        }
        {
            // Always, not only with proxy_protocol set: a reload can turn it on without rebinding meters.
            ProxyProtocolStats proxy = listener instanceof HttpListener http ? http.proxyProtocolStats()
                    : listener instanceof TcpListener tcp ? tcp.proxyProtocolStats() : null;
            for (ProxyProtocolStats.Reason reason : proxy == null ? new ProxyProtocolStats.Reason[0]
                    : ProxyProtocolStats.Reason.values()) {
                g.add(FunctionCounter.builder("sluice.listener.proxy.protocol.errors", proxy, p -> p.count(reason))
                        .tags("listener", listener.name(), "reason", reason.label())
                        .description("Client connections closed over their PROXY protocol header: untrusted source, "
                                + "malformed, truncated, or not complete in time")
                        .register(registry));
            }
        }
        if (listener instanceof UdpListener udp) {
            bindUdp(g, udp);
        }
        if (listener instanceof HttpListener http) {
            bindHttp(g, http);
        } else if (listener instanceof TcpListener tcp) {
            PassthroughStats stats = tcp.passthrough();
            for (PassthroughStats.Series series : tcp.passthroughSeries()) {
                g.add(FunctionCounter.builder("sluice.tls.passthrough", stats,
                                st -> st.count(series.route(), series.result()))
                        .tags("listener", listener.name(), "route", series.route(), "result", series.result().label())
                        .description("Clients of a TCP listener that reads the ClientHello (SNI passthrough), by the "
                                + "route they took (empty: closed before any) and how the peek went")
                        .register(registry));
            }
        }
        if (listener instanceof HttpListener http && http.tls() != null) {
            TlsMeters.bind(registry, g, http.tls());
        } else if (listener instanceof TcpListener tcp && tcp.tls() != null) {
            TlsMeters.bind(registry, g, tcp.tls());
        }
        return g;
    }

    /** A UDP listener's datagrams and bytes each way, its drops by reason and its open flows. */
    private void bindUdp(MeterGroup g, UdpListener listener) {
        Tags tags = Tags.of("listener", listener.name());
        UdpStats s = listener.udpStats();
        g.add(FunctionCounter.builder("sluice.listener.datagrams.received", s, UdpStats::datagramsReceived).tags(tags)
                .description("Datagrams received from clients (udp listeners)").register(registry));
        g.add(FunctionCounter.builder("sluice.listener.datagrams.sent", s, UdpStats::datagramsSent).tags(tags)
                .description("Datagrams sent to clients, the servers' replies (udp listeners)").register(registry));
        g.add(FunctionCounter.builder("sluice.listener.bytes.received", s, UdpStats::bytesReceived).tags(tags)
                .description("Bytes of datagrams received from clients (udp listeners)").register(registry));
        g.add(FunctionCounter.builder("sluice.listener.bytes.sent", s, UdpStats::bytesSent).tags(tags)
                .description("Bytes of datagrams sent to clients (udp listeners)").register(registry));
        for (UdpStats.Drop reason : UdpStats.Drop.values()) {
            g.add(FunctionCounter.builder("sluice.listener.datagrams.dropped", s, st -> st.drops(reason))
                    .tags(tags.and("reason", reason.label()))
                    .description("Datagrams not forwarded, by reason: flow_limit (udp.max_flows reached), no_server, "
                            + "queue_full (server socket still opening), unwritable (send buffer full), "
                            + "socket_error (no socket to the server could be made), limited (over the listener's "
                            + "per-client limits)")
                    .register(registry));
        }
        g.add(Gauge.builder("sluice.udp.flows.active", s, UdpStats::flows).tags(tags)
                .description("UDP flows (client addresses pinned to a server) open now").register(registry));
    }

    private void bindHttp(MeterGroup g, HttpListener listener) {
        HttpListenerStats stats = listener.httpStats();
        for (HttpProtocol protocol : HttpProtocol.values()) {
            for (Route route : listener.routes().all()) {
                for (int c = 1; c <= 5; c++) {
                    int statusClass = c;
                    g.add(FunctionCounter.builder("sluice.http.requests", route,
                                    r -> r.responses(protocol, statusClass))
                            .tags("listener", listener.name(), "route", route.name(), "cluster", route.clusterName(),
                                    "code", c + "xx", "protocol", protocol.label())
                            .description("HTTP responses sent, by route, status class and client protocol")
                            .register(registry));
                }
            }
            for (int c = 1; c <= 5; c++) {
                int statusClass = c;
                // Refused before routing (400, 408, 414, 431, ...): no route or cluster to name, so both are empty.
                g.add(FunctionCounter.builder("sluice.http.requests", stats, st -> st.refused(protocol, statusClass))
                        .tags("listener", listener.name(), "route", "", "cluster", "", "code", c + "xx",
                                "protocol", protocol.label())
                        .description("HTTP responses sent, by route, status class and client protocol")
                        .register(registry));
            }
        }
        for (GoAwayReason reason : GoAwayReason.values()) {
            g.add(FunctionCounter.builder("sluice.http2.goaways", stats, st -> st.goaways(reason))
                    .tags("listener", listener.name(), "reason", reason.label())
                    .description("HTTP/2 connections Sluice ended with GOAWAY, by reason").register(registry));
        }
        g.add(FunctionCounter.builder("sluice.http.retries", listener, HttpListener::retries)
                .tags("listener", listener.name())
                .description("Requests sent again after a server connection failed before any response byte")
                .register(registry));
        if (listener.config().http().accessLog() != null) {
            g.add(FunctionCounter.builder("sluice.http.access.log.dropped", listener, HttpListener::accessLogDropped)
                    .tags("listener", listener.name())
                    .description("Access log lines dropped because the writer could not keep up").register(registry));
        }
        for (ErrorReason reason : ErrorReason.values()) {
            g.add(FunctionCounter.builder("sluice.http.errors", stats, st -> st.errors(reason))
                    .tags("listener", listener.name(), "reason", reason.label())
                    .description("HTTP requests that failed, by reason").register(registry));
        }
    }

    /**
     * The cluster's HTTP meters: request durations (recorded by the request path, each event loop into its own
     * cells: {@link LoopTimer}). Pool gauges are per server: {@link #bindPools}.
     */
    public MeterGroup bind(Upstream upstream) {
        MeterGroup g = new MeterGroup(registry);
        LoopTimer duration = requestDurations.add(upstream.name());
        g.onClose(() -> requestDurations.remove(duration));
        upstream.durations(duration);
        LoopTimer firstByte = upstreamResponses.add(upstream.name());
        g.onClose(() -> upstreamResponses.remove(firstByte));
        upstream.firstByte(firstByte);
        g.add(FunctionCounter.builder("sluice.upstream.http2.ping.timeouts", upstream, Upstream::pingTimeouts)
                .tags("cluster", upstream.name())
                .description("HTTP/2 server connections closed because a keepalive PING went unanswered")
                .register(registry));
        for (GrpcStatus code : GrpcStatus.values()) {
            g.add(FunctionCounter.builder("sluice.grpc.requests", upstream.grpcCodes(), c -> c.total(code))
                    .tags("cluster", upstream.name(), "grpc_code", code.name())
                    .description("gRPC calls by final grpc-status (the server's, or Sluice's own answer)")
                    .register(registry));
        }
        return g;
    }

    /** One server's HTTP pool gauges and its requests in flight, added to {@code g}. */
    public void bindPools(MeterGroup g, Upstream upstream, Server server) {
        Tags tags = Tags.of("cluster", upstream.name(), "server", server.label());
        ServerPools pools = upstream.pools(server);
        g.add(Gauge.builder("sluice.http.pool.connections.idle", pools, ServerPools::idle).tags(tags)
                .description("Idle keep-alive connections to the server, over all event loops")
                .register(registry));
        g.add(Gauge.builder("sluice.http.pool.connections.active", pools, ServerPools::inUse).tags(tags)
                .description("Pooled connections to the server carrying a request now").register(registry));
        g.add(Gauge.builder("sluice.server.requests.active", server, Server::activeRequests).tags(tags)
                .description("HTTP requests in flight to the server").register(registry));
        g.add(Gauge.builder("sluice.server.pool.waiting", pools, ServerPools::waiting).tags(tags)
                .description("Requests waiting for a pooled connection to the server (all connections busy), "
                        + "over all event loops").register(registry));
    }

    /** The cluster's own meters (panic); each server's are {@link #bind(Cluster, Server)}. */
    public MeterGroup bind(Cluster cluster) {
        MeterGroup g = new MeterGroup(registry);
        g.add(Gauge.builder("sluice.cluster.panic", cluster, c -> c.panic() ? 1 : 0).tags("cluster", cluster.name())
                .description("1 while the cluster balances across all servers because too few are available")
                .register(registry));
        ClusterQueue q = cluster.queue();
        g.add(Gauge.builder("sluice.cluster.queue.length", q, ClusterQueue::length).tags("cluster", cluster.name())
                .description("Connections and requests waiting because every eligible server is at max_connections")
                .register(registry));
        g.add(FunctionCounter.builder("sluice.cluster.queue.timeouts", q, ClusterQueue::timeouts)
                .tags("cluster", cluster.name())
                .description("Queued connections and requests refused after the queue timeout (503, or closed)")
                .register(registry));
        g.add(FunctionCounter.builder("sluice.cluster.queue.rejected", q, ClusterQueue::rejected)
                .tags("cluster", cluster.name())
                .description("Connections and requests refused at once because the queue was full (503, or closed)")
                .register(registry));
        return g;
    }

    /** A cluster's SRV lookups by result; bound while the cluster has srv entries. */
    public MeterGroup bindDns(String cluster, DnsResolutions resolutions) {
        return countersByLabel("sluice.dns.resolutions", "DNS SRV lookups of the cluster's srv names, by result",
                cluster, "result", DnsResolutions.Result.values(), DnsResolutions.Result::label,
                result -> resolutions.count(result));
    }

    /** A cluster's failed TLS handshakes with its servers, by reason; bound while the cluster has tls. */
    public MeterGroup bindUpstreamTls(String cluster, UpstreamTlsErrors errors) {
        return countersByLabel("sluice.upstream.tls.handshake.errors",
                "Failed TLS handshakes with the cluster's servers, by reason", cluster, "reason",
                UpstreamTlsErrors.Reason.values(), UpstreamTlsErrors.Reason::label, reason -> errors.count(reason));
    }

    /** One counter per value of a bounded label (an enum), all for one cluster, read from {@code count}. */
    private <E> MeterGroup countersByLabel(String name, String description, String cluster, String labelName,
                                           E[] values, java.util.function.Function<E, String> label,
                                           java.util.function.ToLongFunction<E> count) {
        MeterGroup g = new MeterGroup(registry);
        for (E value : values) {
            g.add(FunctionCounter.builder(name, value, v -> count.applyAsLong(v))
                    .tags("cluster", cluster, labelName, label.apply(value))
                    .description(description)
                    .register(registry));
        }
        return g;
    }

    /** One server's meters: connections, bytes, health and state changes. */
    public MeterGroup bind(Cluster cluster, Server server) {
        MeterGroup g = new MeterGroup(registry);
        Tags tags = Tags.of("cluster", cluster.name(), "server", server.label());
        g.add(Gauge.builder("sluice.server.connections.active", server,
                        sv -> sv.activeConnections() + sv.pooledConnections())
                .tags(tags).description("Connections open (or opening) to the server").register(registry));
        g.add(FunctionCounter.builder("sluice.server.connections", server, sv -> sv.totalConnections().sum())
                .tags(tags).description("Connections established to the server").register(registry));
        g.add(FunctionCounter.builder("sluice.server.bytes.received", server, sv -> sv.bytesReceived().sum())
                .tags(tags).description("Bytes received from the server")
                .register(registry));
        g.add(FunctionCounter.builder("sluice.server.bytes.sent", server, sv -> sv.bytesSent().sum())
                .tags(tags).description("Bytes sent to the server").register(registry));
        g.add(FunctionCounter.builder("sluice.server.datagrams.sent", server, sv -> sv.datagramsSent().sum())
                .tags(tags).description("Datagrams sent to the server (udp listeners)").register(registry));
        g.add(FunctionCounter.builder("sluice.server.datagrams.received", server, sv -> sv.datagramsReceived().sum())
                .tags(tags).description("Datagrams received from the server (udp listeners)").register(registry));
        g.add(FunctionCounter.builder("sluice.server.connect.errors", server, sv -> sv.connectErrors().sum())
                .tags(tags).description("Failed connects to the server (refused, unreachable, timed out)")
                .register(registry));
        g.add(Gauge.builder("sluice.server.queue.length", server, Server::queued).tags(tags)
                .description("Queued work that a sticky cookie pinned to this server, waiting for it to have room")
                .register(registry));
        g.add(Gauge.builder("sluice.server.slots.used", server, Server::slotsInUse).tags(tags)
                .description("Relayed connections and HTTP requests counted against the server's max_connections")
                .register(registry));
        g.add(Gauge.builder("sluice.server.up", server, sv -> sv.healthy() ? 1 : 0).tags(tags)
                .description("1 while the server passes its health checks (always 1 without checks)")
                .register(registry));
        g.add(Gauge.builder("sluice.server.ejected", server, sv -> sv.ejected() ? 1 : 0).tags(tags)
                .description("1 while outlier detection keeps the server out of rotation").register(registry));
        if (cluster.config().healthCheck() != null) {
            for (ProbeResult.Outcome outcome : ProbeResult.Outcome.values()) {
                g.add(FunctionCounter.builder("sluice.health.checks", server, sv -> sv.healthChecks(outcome).sum())
                        .tags(tags.and("result", outcome.label()))
                        .description("Active health checks by result (success, failure, timeout)")
                        .register(registry));
            }
        }
        for (Server.AdminState state : Server.AdminState.values()) {
            g.add(Gauge.builder("sluice.server.admin.state", server, sv -> sv.adminState() == state ? 1 : 0)
                    .tags(tags.and("state", state.label()))
                    .description("1 for the state an operator gave the server through the admin API (enabled, "
                            + "draining, disabled)").register(registry));
        }
        for (Server.StateChange to : Server.StateChange.values()) {
            g.add(FunctionCounter.builder("sluice.server.state.changes", server, sv -> sv.stateChanges(to).sum())
                    .tags(tags.and("to", to.label()))
                    .description("Transitions of the server: up/down by health checks, ejected/returned by "
                            + "outlier detection").register(registry));
        }
        return g;
    }

    /** The duration of one cluster's health checks, registered in {@code group}. */
    public Timer healthCheckDuration(MeterGroup group, String cluster) {
        return group.add(Timer.builder("sluice.health.check.duration").tag("cluster", cluster)
                .description("Time a health check took, from connect to verdict")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry));
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
