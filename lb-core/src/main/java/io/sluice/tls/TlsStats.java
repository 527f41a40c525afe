package io.sluice.tls;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * A TLS listener's counts: handshakes by negotiated version and result, failures by reason, certificate
 * reloads by result. Written on the event loops and the control thread, read by scrapes.
 */
public final class TlsStats {
    /** The versions a handshake can end in ({@code TlsConfig.KNOWN_PROTOCOLS}); "none" for failed ones. */
    public static final List<String> VERSIONS = List.of("TLSv1.2", "TLSv1.3");
    public static final String NO_VERSION = "none";

    private final LongAdder[] succeeded = {new LongAdder(), new LongAdder()};
    private final LongAdder failed = new LongAdder();
    private final LongAdder[] failures = new LongAdder[HandshakeFailure.values().length];
    private final LongAdder reloads = new LongAdder();
    private final LongAdder reloadFailures = new LongAdder();

    TlsStats() {
        for (int i = 0; i < failures.length; i++) {
            failures[i] = new LongAdder();
        }
    }

    void succeeded(String version) {
        int i = VERSIONS.indexOf(version);
        if (i >= 0) {
            succeeded[i].increment();
        }
    }

    void failed(HandshakeFailure reason) {
        failed.increment();
        failures[reason.ordinal()].increment();
    }

    void reloaded(boolean ok) {
        (ok ? reloads : reloadFailures).increment();
    }

    /** Handshakes that ended in {@code version} (one of {@link #VERSIONS}). */
    public long handshakes(String version) {
        int i = VERSIONS.indexOf(version);
        return i < 0 ? 0 : succeeded[i].sum();
    }

    public long failedHandshakes() {
        return failed.sum();
    }

    public long failures(HandshakeFailure reason) {
        return failures[reason.ordinal()].sum();
    }

    /** Certificate reloads (config reload or a change on disk) that took effect, or that kept the old ones. */
    public long reloads(boolean ok) {
        return (ok ? reloads : reloadFailures).sum();
    }
}
