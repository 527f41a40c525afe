package io.sluice.config;

import java.time.Duration;

/**
 * A UDP listener's flows: one per client address, pinned to one server.
 *
 * @param idleTimeout         a flow with no datagram either way for this long ends
 * @param responsesPerRequest a flow ends once the server has sent this many replies per client datagram (DNS: 1);
 *                            0 = no limit, only the idle timeout ends it
 * @param maxFlows            flows open at once on the listener; datagrams that would start one more are dropped
 *                            and counted, so a flood of spoofed sources cannot grow memory
 * @param maxDatagramSize     the receive buffer of one datagram, either way; the kernel cuts a longer one to this
 */
public record UdpConfig(Duration idleTimeout, int responsesPerRequest, int maxFlows, int maxDatagramSize) {
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Unlimited: the idle timeout alone ends a flow. */
    public static final int DEFAULT_RESPONSES_PER_REQUEST = 0;
    public static final int DEFAULT_MAX_FLOWS = 100_000;
    /** An EDNS answer of the usual 4096-byte limit fits; so do syslog lines and game and VoIP packets. */
    public static final int DEFAULT_MAX_DATAGRAM_SIZE = 4096;

    public static final UdpConfig DEFAULT = new UdpConfig(DEFAULT_IDLE_TIMEOUT, DEFAULT_RESPONSES_PER_REQUEST,
            DEFAULT_MAX_FLOWS, DEFAULT_MAX_DATAGRAM_SIZE);
}
