package io.sluice.config;

import java.time.Duration;

/**
 * A UDP listener's flows: one per client address, pinned to one server.
 *
 * @param idleTimeout         a flow with no datagram either way for this long ends
 * @param responsesPerRequest a flow ends once the server has sent this many replies per client datagram (DNS: 1);
 *                            0 = no limit, only the idle timeout ends it
 * @param maxFlows            flows open at once on the listener; datagrams that would start one more are dropped
 *                            and counted, so a flood of spoofed sources grows memory to this many flows and no
 *                            further: on io_uring each flow's socket holds about 116 KiB of direct memory
 *                            (Netty 4.2.18's two message-header arrays), on epoll and nio none
 * @param maxDatagramSize     the receive buffer of one datagram, either way; the kernel cuts a longer one to this
 */
public record UdpConfig(Duration idleTimeout, int responsesPerRequest, int maxFlows, int maxDatagramSize) {
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Unlimited: the idle timeout alone ends a flow. */
    public static final int DEFAULT_RESPONSES_PER_REQUEST = 0;
    /** About 1.2 GB of direct memory on io_uring when full (10,000 x ~116 KiB); 100,000 would need ~12 GB. */
    public static final int DEFAULT_MAX_FLOWS = 10_000;
    /** An EDNS answer of the usual 4096-byte limit fits; so do syslog lines and game and VoIP packets. */
    public static final int DEFAULT_MAX_DATAGRAM_SIZE = 4096;

    public static final UdpConfig DEFAULT = new UdpConfig(DEFAULT_IDLE_TIMEOUT, DEFAULT_RESPONSES_PER_REQUEST,
            DEFAULT_MAX_FLOWS, DEFAULT_MAX_DATAGRAM_SIZE);
}
