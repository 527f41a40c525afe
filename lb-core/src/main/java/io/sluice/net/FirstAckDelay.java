package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.unix.UnixChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets an HTTP listener's connections acknowledge a request with its response instead of with an ACK of its own
 * (TCP_QUICKACK off on the listening socket, Linux), as HAProxy's {@code option smart-accept} does, on by default
 * in its HTTP mode.
 *
 * <p>Why: a new connection starts in the kernel's quick-ACK mode, so the first request on it was acknowledged by a
 * bare ACK the moment it arrived, and its response followed a millisecond later carrying the same acknowledgement:
 * one segment more per connection than HAProxy sends, sent and received on loopback in the proxy's own time (12
 * segments per {@code Connection: close} request against HAProxy's 11, counted with {@code nstat}). With quick-ACK
 * off ("pingpong" mode, which a keep-alive connection reaches by itself after its first exchange) the ACK waits
 * for the response, or for the delayed-ACK timer when the response is slow. A client that sends its first
 * request in two small writes without TCP_NODELAY waits for that timer, as it would on its second request anyway.
 *
 * <p>{@code listen(2)} clears the flag, so it is set on the bound socket; every connection accepted from then on
 * inherits it. NIO's listening channel has no such option: there the connections keep the kernel's default.
 * {@code -Dsluice.http.delayFirstAck=false} leaves the kernel's default everywhere (for A/B comparisons, or for
 * clients that do write a request in pieces without TCP_NODELAY).
 */
public final class FirstAckDelay {
    private static final Logger log = LoggerFactory.getLogger(FirstAckDelay.class);
    static final String PROPERTY = "sluice.http.delayFirstAck";
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty(PROPERTY));

    private FirstAckDelay() {
    }

    /** Sets it on {@code listener}, bound and listening; false where it did not take (NIO, another OS). */
    public static boolean applyTo(Channel listener) {
        if (!ENABLED || !(listener instanceof UnixChannel)) {
            return false;
        }
        try {
            if (listener.config().setOption(IdleAck.NATIVE, 0)) {
                return true;
            }
        } catch (RuntimeException e) {
            log.debug("TCP_QUICKACK off on {} failed: {}", listener, e.toString());
        }
        return false;
    }

    /** Sets it on the listening socket {@code s} (the io_uring listeners' own); false where it did not take. */
    public static boolean applyTo(io.netty.channel.unix.Socket s) {
        if (!ENABLED) {
            return false;
        }
        try {
            s.setIntOpt(6, 12, 0); // IPPROTO_TCP, TCP_QUICKACK
            return true;
        } catch (java.io.IOException | RuntimeException e) {
            log.debug("TCP_QUICKACK off on {} failed: {}", s, e.toString());
            return false;
        }
    }

    /** Whether {@code ch}, a connected native channel, is in delayed-ACK ("pingpong") mode; null where unknown. */
    public static Boolean delaysAcks(Channel ch) {
        if (!(ch instanceof UnixChannel)) {
            return null;
        }
        Integer quick = ch.config().getOption(IdleAck.NATIVE);
        return quick == null ? null : quick == 0;
    }

    /** {@link #delaysAcks(Channel)} for the connected socket {@code fd} (one served without a channel). */
    public static Boolean delaysAcks(int fd) {
        try {
            return new io.netty.channel.unix.Socket(fd).getIntOpt(6, 12) == 0; // IPPROTO_TCP, TCP_QUICKACK
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }
}
