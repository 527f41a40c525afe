package io.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * Process-wide settings.
 *
 * @param workerThreads event-loop threads shared by listeners, backend connections and probes; 0 = cores
 * @param drainTimeout  how long SIGTERM waits for open connections before closing them
 * @param dnsRefresh    how often server host names are resolved again (off the event loops)
 * @param watchConfig   reload when the config file changes on disk
 * @param dnsServers    the DNS servers asked for host names and SRV records; empty: those of /etc/resolv.conf
 * @param logFormat     text or JSON lines for the process's own log (not the access log)
 * @param logLevel      the least severe events logged; by default {@code -Dorg.slf4j.simpleLogger.defaultLogLevel},
 *                      else info
 * @param tcpRelay      raw io_uring relay for plain TCP connections where it can, or Netty channels for all
 * @param httpFront     raw io_uring front for plain HTTP/1.1 connections where it can, or Netty channels for all
 */
public record RuntimeConfig(TransportKind transport, int workerThreads, Duration drainTimeout, Duration dnsRefresh,
                            boolean watchConfig, List<HostPort> dnsServers, LogFormat logFormat, LogLevel logLevel,
                            TcpRelay tcpRelay, HttpFront httpFront) {

    public static final TransportKind DEFAULT_TRANSPORT = TransportKind.AUTO;
    /** One event loop per core. */
    public static final int DEFAULT_WORKER_THREADS = 0;
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_DNS_REFRESH = Duration.ofSeconds(30);
    public static final boolean DEFAULT_WATCH_CONFIG = false;
    /** The system's resolvers, as /etc/resolv.conf names them. */
    public static final List<HostPort> DEFAULT_DNS_SERVERS = List.of();
    public static final LogFormat DEFAULT_LOG_FORMAT = LogFormat.TEXT;
    public static final TcpRelay DEFAULT_TCP_RELAY = TcpRelay.AUTO;
    public static final HttpFront DEFAULT_HTTP_FRONT = HttpFront.AUTO;
    public static final RuntimeConfig DEFAULT = new RuntimeConfig(DEFAULT_TRANSPORT, DEFAULT_WORKER_THREADS,
            DEFAULT_DRAIN_TIMEOUT, DEFAULT_DNS_REFRESH, DEFAULT_WATCH_CONFIG, DEFAULT_DNS_SERVERS, DEFAULT_LOG_FORMAT,
            LogLevel.INFO, DEFAULT_TCP_RELAY, DEFAULT_HTTP_FRONT);

    public RuntimeConfig {
        dnsServers = List.copyOf(dnsServers);
    }

    public int effectiveWorkerThreads() {
        return workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
    }
}
