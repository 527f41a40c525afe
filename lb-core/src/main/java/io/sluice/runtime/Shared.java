package io.sluice.runtime;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.sluice.health.HealthChecker;
import io.sluice.metrics.Metrics;
import io.sluice.net.LoopIndex;
import io.sluice.net.Transport;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What every listener and cluster of one process shares: the transport and its worker loops, the buffer
 * allocator, metrics, the health checker and the control thread (picker rebuilds, slow-start steps, drains:
 * everything that must not run on an event loop), whether TCP listeners may relay on raw io_uring operations
 * ({@code runtime.tcp_relay}), and whether HTTP listeners may serve on them ({@code runtime.http_front}).
 */
public record Shared(Transport transport, EventLoopGroup workers, LoopIndex loops, ByteBufAllocator allocator,
              Metrics metrics, HealthChecker health, ScheduledExecutorService control,
              boolean rawTcpRelay, boolean rawHttpFront) {
}
