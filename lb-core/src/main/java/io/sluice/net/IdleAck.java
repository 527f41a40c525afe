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
        if (ch instanceof UnixChannel) {
            return ch.config().setOption(NATIVE, 1);
        }
        return ch.config().setOption(NIO, true);
    }
}
