package io.sluice.config;

import java.time.Duration;
import java.util.List;

/**
 * Active health checks of a cluster (HAProxy's rise/fall meanings).
 *
 * @param port        probe this port instead of the server's; 0 = the server's port
 * @param expectStatus accepted HTTP status ranges (inclusive pairs)
 * @param expectBody   substring the HTTP body must contain; null = any body
 * @param initialUp    whether a new server starts UP (true) or must pass rise checks first
 * @param closeOnDown  close the connections a server holds when it goes DOWN (HAProxy's
 *                     {@code on-marked-down shutdown-sessions}); by default they are left to finish
 * @param service      type grpc: the service named in grpc.health.v1.Health/Check; "" = the server as a whole
 * @param dns          type dns: the query sent over UDP and the answers that pass; null for other types
 */
public record HealthCheckConfig(Type type, String method, String path, String host, List<int[]> expectStatus,
                                String expectBody, Duration interval, Duration timeout, Duration jitter, int rise,
                                int fall, int port, boolean initialUp, boolean closeOnDown,
                                String service, DnsCheck dns) {

    public static final Type DEFAULT_TYPE = Type.TCP;
    public static final String DEFAULT_METHOD = "GET";
    public static final String DEFAULT_PATH = "/";
    /** The server's address. */
    public static final String DEFAULT_HOST = null;
    /** Success and redirects, 200-399, as HAProxy's httpchk counts them. */
    public static final List<int[]> DEFAULT_EXPECT_STATUS = List.<int[]>of(new int[] {200, 399});
    /** Any body. */
    public static final String DEFAULT_EXPECT_BODY = null;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_JITTER = Duration.ZERO;
    public static final int DEFAULT_RISE = 2;
    public static final int DEFAULT_FALL = 3;
    /** The server's own port. */
    public static final int DEFAULT_PORT = 0;
    public static final boolean DEFAULT_INITIAL_UP = true;
    public static final boolean DEFAULT_CLOSE_ON_DOWN = false;
    /** The server as a whole, as the gRPC health protocol names it. */
    public static final String DEFAULT_SERVICE = "";

    public HealthCheckConfig {
        expectStatus = List.copyOf(expectStatus);
    }

    public enum Type {
        TCP, HTTP, GRPC,
        /** A DNS query over UDP, for the servers of a {@code protocol: udp} listener. */
        DNS
    }

    /**
     * A DNS check: a query for {@code name} of {@code queryType} (a type code: 1 = A, 28 = AAAA...) passes when an
     * answer with the query's id comes back with one of {@code rcodes}.
     */
    public record DnsCheck(String name, int queryType, java.util.Set<Integer> rcodes) {
        public static final String DEFAULT_QUERY_TYPE = "A";
        /** NOERROR only. */
        public static final java.util.Set<Integer> DEFAULT_RCODES = java.util.Set.of(0);

        public DnsCheck {
            rcodes = java.util.Set.copyOf(rcodes);
        }
    }
}
