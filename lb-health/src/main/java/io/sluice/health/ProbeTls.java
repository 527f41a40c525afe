package io.sluice.health;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;

/**
 * Puts a probe's connection in TLS when the servers speak it. lb-health knows neither certificates nor names:
 * whoever builds the {@link ProbeSpec} supplies this, and the probe waits for it before it counts a TCP check
 * as passed or sends an HTTP check's request.
 */
@FunctionalInterface
public interface ProbeTls {

    /**
     * Called on {@code ch}'s event loop once it is connected to {@code target}: adds the TLS handlers at the
     * front of its pipeline and starts the handshake. The future succeeds when the channel carries plain bytes
     * over TLS, and fails with a cause whose message says why the handshake failed (it becomes the probe's
     * failure detail).
     */
    Future<?> start(Channel ch, HealthTarget target);
}
