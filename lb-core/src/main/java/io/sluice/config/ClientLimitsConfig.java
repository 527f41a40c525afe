package io.sluice.config;

/**
 * {@code listeners[].limits}: what one client address may do, as NGINX's {@code limit_conn}/{@code limit_req}
 * and HAProxy's stick tables. 0 turns a limit off.
 *
 * @param connectionsPerIp       connections one client may have open at once; more are closed at accept
 * @param requestsPerSecondPerIp sustained rate of one client: requests on an http listener (HTTP/2 streams too),
 *                               new connections on a tcp one
 * @param burst                  requests one client may send at once above the rate (the token bucket's size);
 *                               0 = one second's worth ({@code requestsPerSecondPerIp})
 */
public record ClientLimitsConfig(int connectionsPerIp, int requestsPerSecondPerIp, int burst) {
    public static final int DEFAULT_CONNECTIONS_PER_IP = 0;
    public static final int DEFAULT_REQUESTS_PER_SECOND_PER_IP = 0;
    public static final int DEFAULT_BURST = 0;
    /** Off. */
    public static final ClientLimitsConfig NONE = new ClientLimitsConfig(DEFAULT_CONNECTIONS_PER_IP,
            DEFAULT_REQUESTS_PER_SECOND_PER_IP, DEFAULT_BURST);

    /** The token bucket's size: {@code burst}, or one second's worth of requests. */
    public int bucketSize() {
        return burst > 0 ? burst : requestsPerSecondPerIp;
    }

    public boolean any() {
        return connectionsPerIp > 0 || requestsPerSecondPerIp > 0;
    }
}
