package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannel;
import jdk.net.ExtendedSocketOptions;

/**
 * Acknowledges at once everything a server connection received, as it goes idle in a pool (TCP_QUICKACK, Linux).
 *
 * <p>Why: a keep-alive connection that carries a request soon after each response is in the kernel's
 * "interactive" (pingpong) mode, which holds back the ACK of a response's last, short segment to send it with
 * the next request. A pooled connection that then sits idle leaves that segment unacknowledged at the server
 * until the delayed-ACK timer fires (40 ms and more), and the server's TCP takes the late ACK for a slow path: with
 * BBR, the next response on that connection went out one 64 KiB segment per few tens of milliseconds, ramping up
 * over 50-100 ms (1 MiB responses through the HTTP proxy: p99 50-70 ms against 7 ms with the ACK sent at once;
 * docs/bench/measurements-2026-12-05-large.md). The TCP relay never had it: its server connection carries the
 * client's next request as soon as the client sends it.
 *
 * <p>Setting TCP_QUICKACK sends the pending ACK and leaves pingpong mode (the kernel does not keep the flag): one
 * setsockopt per connection that goes idle. {@code -Dsluice.http1.idleQuickAck=false} turns it off (for A/B
 * comparisons).
 */
public final class IdleAck {
    static final String PROPERTY = "sluice.http1.idleQuickAck";
    /**
     * Only after responses at least this large. The call costs a system call and an ACK packet per request
     * (1.07-1.25x the CPU per request with 64 B responses in the load comparison, where the peers make neither), and small responses gain
     * nothing: a server slowed this way sends its next response slowly only when that response spans several
     * segments, and a connection's next response tends to be the size of its last. A large response after
     * small ones on the same idle connection can still meet the held-back ACK.
     */
    public static final long AFTER_RESPONSE_BYTES = 16 * 1024;
    /** IPPROTO_TCP (6), TCP_QUICKACK (12): a raw option, which both native transports take. */
    static final IntegerUnixChannelOption NATIVE = new IntegerUnixChannelOption("TCP_QUICKACK", 6, 12);
    private static final ChannelOption<Boolean> NIO = NioChannelOption.of(ExtendedSocketOptions.TCP_QUICKACK);
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty(PROPERTY));

    private IdleAck() {
    }

    /** Sends the ACK of what {@code ch} received and still holds back, if any; false where the OS has no such option. */
    public static boolean send(Channel ch) {
        if (!ENABLED) {
            return false;
        }
        try {
            if (ch instanceof UnixChannel) {
                return ch.config().setOption(NATIVE, 1);
            }
            return ch.config().setOption(NIO, true);
        } catch (RuntimeException e) {
            // Only an ACK sent late, as without this: never a reason to fail the pool's release.
            return false;
        }
    }
}
