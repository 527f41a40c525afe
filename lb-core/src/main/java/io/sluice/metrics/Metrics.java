package io.sluice.metrics;

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
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.sluice.cluster.Cluster;
import io.sluice.cluster.Server;
import io.sluice.health.ProbeResult;
import io.sluice.l4.ListenerStats;
import io.sluice.l4.TcpListener;

/**
 * The Prometheus registry and Sluice's meters. Meters are function meters over counters the listener and
 * server objects own, so the forwarding path never touches the registry: scraping reads the atomics.
 */
public final class Metrics implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public Metrics(PooledByteBufAllocator allocator) {
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
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public void bind(TcpListener listener) {
        Tags tags = Tags.of("listener", listener.name());
        ListenerStats s = listener.stats();
        Gauge.builder("sluice.listener.connections.active", s, ListenerStats::active).tags(tags)
                .description("Client connections open now").register(registry);
        FunctionCounter.builder("sluice.listener.connections", s, ListenerStats::total).tags(tags)
                .description("Client connections accepted").register(registry);
        FunctionCounter.builder("sluice.listener.connections.rejected", s, ListenerStats::rejected).tags(tags)
                .description("Client connections closed at once because max_connections was reached")
                .register(registry);
        FunctionCounter.builder("sluice.listener.no.server", s, ListenerStats::noServer).tags(tags)
                .description("Client connections closed because no server was available or reachable")
                .register(registry);
    }

    public void bind(Cluster cluster) {
        Gauge.builder("sluice.cluster.panic", cluster, c -> c.panic() ? 1 : 0).tags("cluster", cluster.name())
                .description("1 while the cluster balances across all servers because too few are available")
                .register(registry);
        for (Server server : cluster.servers()) {
            Tags tags = Tags.of("cluster", cluster.name(), "server", server.label());
            Gauge.builder("sluice.server.connections.active", server, sv -> sv.activeConnections().get())
                    .tags(tags).description("Connections open (or opening) to the server").register(registry);
            FunctionCounter.builder("sluice.server.connections", server, sv -> sv.totalConnections().sum())
                    .tags(tags).description("Connections established to the server").register(registry);
            FunctionCounter.builder("sluice.server.bytes.received", server, sv -> sv.bytesReceived().sum())
                    .tags(tags).description("Bytes received from the server")
                    .register(registry);
            FunctionCounter.builder("sluice.server.bytes.sent", server, sv -> sv.bytesSent().sum())
                    .tags(tags).description("Bytes sent to the server").register(registry);
            FunctionCounter.builder("sluice.server.connect.errors", server, sv -> sv.connectErrors().sum())
                    .tags(tags).description("Failed connects to the server (refused, unreachable, timed out)")
                    .register(registry);
            Gauge.builder("sluice.server.up", server, sv -> sv.healthy() ? 1 : 0).tags(tags)
                    .description("1 while the server passes its health checks (always 1 without checks)")
                    .register(registry);
            Gauge.builder("sluice.server.ejected", server, sv -> sv.ejected() ? 1 : 0).tags(tags)
                    .description("1 while outlier detection keeps the server out of rotation").register(registry);
            if (cluster.config().healthCheck() != null) {
                for (ProbeResult.Outcome outcome : ProbeResult.Outcome.values()) {
                    FunctionCounter.builder("sluice.health.checks", server, sv -> sv.healthChecks(outcome).sum())
                            .tags(tags.and("result", outcome.label()))
                            .description("Active health checks by result (success, failure, timeout)")
                            .register(registry);
                }
            }
            for (Server.StateChange to : Server.StateChange.values()) {
                FunctionCounter.builder("sluice.server.state.changes", server, sv -> sv.stateChanges(to).sum())
                        .tags(tags.and("to", to.label()))
                        .description("Transitions of the server: up/down by health checks, ejected/returned by "
                                + "outlier detection").register(registry);
            }
        }
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
