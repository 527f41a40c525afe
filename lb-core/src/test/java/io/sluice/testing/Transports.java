package io.sluice.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.util.Locale;

/** Skips (rather than fails) a transport test on a machine whose kernel lacks that transport. */
public final class Transports {
    private Transports() {
    }

    /** The L4 test mode that splices: epoll with the listener's {@code splice: true}. */
    public static final String SPLICE = "splice";

    public static boolean isSplice(String mode) {
        return SPLICE.equals(mode);
    }

    /** The transport a test mode runs on ({@link RecvRings#MODE} is io_uring with its ring). */
    public static String transportOf(String mode) {
        return isSplice(mode) ? "epoll" : RecvRings.MODE.equals(mode) ? "io_uring" : mode;
    }

    /**
     * Asks through {@link Transport} so that its settings for Netty's transports apply in tests too. Takes a
     * transport name or {@link #SPLICE}.
     */
    public static void assumeAvailable(String mode) {
        TransportKind kind = TransportKind.valueOf(transportOf(mode).toUpperCase(Locale.ROOT));
        assumeTrue(Transport.isAvailable(kind), mode + " not available here");
    }
}
