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

    /** The L4 test mode that relays on io_uring through Netty's channels ({@code runtime.tcp_relay: channels}). */
    public static final String CHANNELS = "io_uring+channels";

    public static boolean isSplice(String mode) {
        return SPLICE.equals(mode);
    }

    /** What a test mode adds to {@code runtime}: the channel relay for {@link #CHANNELS} and the recv ring's mode. */
    public static String runtimeExtraOf(String mode) {
        return CHANNELS.equals(mode) || RecvRings.MODE.equals(mode) ? ", tcp_relay: channels" : "";
    }

    /** The transport a test mode runs on ({@link RecvRings#MODE} is io_uring with its ring, {@link #CHANNELS} io_uring). */
    public static String transportOf(String mode) {
        return isSplice(mode) ? "epoll" : RecvRings.MODE.equals(mode) || CHANNELS.equals(mode) ? "io_uring" : mode;
    }

    /**
     * Asks through {@link Transport} so that its settings for Netty's transports apply in tests too. Takes a
     * transport name or {@link #SPLICE}.
     */
    public static void assumeAvailable(String mode) {
        assumeTrue(isAvailableHere(mode), mode + " not available here");
    }

    public static boolean isAvailableHere(String mode) {
        return Transport.isAvailable(TransportKind.valueOf(transportOf(mode).toUpperCase(Locale.ROOT)));
    }
}
