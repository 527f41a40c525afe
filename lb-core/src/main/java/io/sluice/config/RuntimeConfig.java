package io.sluice.config;

import java.time.Duration;

/**
 * Process-wide settings.
 *
 * @param workerThreads event-loop threads shared by listeners, backend connections and probes; 0 = cores
 * @param drainTimeout  how long SIGTERM waits for open connections before closing them
 * @param dnsRefresh    how often server host names are resolved again (off the event loops)
 */
public record RuntimeConfig(TransportKind transport, int workerThreads, Duration drainTimeout, Duration dnsRefresh) {

    public static final RuntimeConfig DEFAULT =
            new RuntimeConfig(TransportKind.AUTO, 0, Duration.ofSeconds(30), Duration.ofSeconds(30));

    public int effectiveWorkerThreads() {
        return workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
    }
}
