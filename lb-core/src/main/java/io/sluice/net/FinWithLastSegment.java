package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.UnixChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets the last bytes written to a connection that closes right after them leave in one segment with its FIN
 * (TCP_CORK, Linux): the response to a {@code Connection: close} request, say.
 *
 * <p>Why: written as usual, the response goes out at once, the close follows when the write completes, and the FIN
 * is a segment of its own: response, the client's ACK of it, Sluice's FIN, the client's FIN, the last ACK. Corked,
 * the response's last partial segment stays in the socket until the close, which puts the FIN on it; the client
 * acknowledges both at once, with its own FIN: response and FIN, the client's FIN and ACK, the last ACK. Two
 * segments fewer per connection, one of them sent by Sluice, for one setsockopt.
 *
 * <p>The kernel sends corked bytes anyway once they fill a segment, and after 200 ms at most: a close that waits
 * for a slow client's reads only holds back the tail. {@code -Dsluice.http1.finWithLastSegment=false} turns it off
 * (for A/B comparisons). NIO has no such option: there the FIN follows on its own.
 */
public final class FinWithLastSegment {
    private static final Logger log = LoggerFactory.getLogger(FinWithLastSegment.class);
    static final String PROPERTY = "sluice.http1.finWithLastSegment";
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty(PROPERTY));
    /** IPPROTO_TCP (6), TCP_CORK (3): a raw option, which both native transports take. */
    static final IntegerUnixChannelOption TCP_CORK = new IntegerUnixChannelOption("TCP_CORK", 6, 3);

    private FinWithLastSegment() {
    }

    /**
     * Call before the last write on {@code ch}, whose close must follow that write's completion: until then the
     * socket holds back a partial segment.
     */
    public static void holdUntilClose(Channel ch) {
        if (!ENABLED || !(ch instanceof UnixChannel)) {
            return;
        }
        try {
            ch.config().setOption(TCP_CORK, 1);
        } catch (RuntimeException e) {
            // Only a FIN in a segment of its own, as without this.
            log.debug("TCP_CORK on {} failed: {}", ch, e.toString());
        }
    }
}
