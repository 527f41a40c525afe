package io.sluice.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.config.TransportKind;
import io.sluice.l4.Transport;
import java.util.Locale;

/** Skips (rather than fails) a transport test on a machine whose kernel lacks that transport. */
public final class Transports {
    private Transports() {
    }

    /** Asks through {@link Transport} so that its settings for Netty's transports apply in tests too. */
    public static void assumeAvailable(String transport) {
        TransportKind kind = TransportKind.valueOf(transport.toUpperCase(Locale.ROOT));
        assumeTrue(Transport.isAvailable(kind), transport + " not available here");
    }
}
