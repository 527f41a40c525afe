package io.sluice.testing;

/**
 * Runs part of a test with io_uring's provided-buffer ring on ({@code -Dsluice.io_uring.recvRing}, read when
 * Sluice starts its loops and bootstraps), and puts back the value the JVM had, which may itself be a ring.
 */
public final class RecvRings {
    /** A test mode: io_uring, reading from a ring with multishot receives. */
    public static final String MODE = "io_uring+ring";
    private static final String PROPERTY = "sluice.io_uring.recvRing";

    private RecvRings() {
    }

    /** The ring switched on for as long as the returned handle is open. */
    public static AutoCloseable on(String entriesByBytes) {
        String before = System.getProperty(PROPERTY);
        System.setProperty(PROPERTY, entriesByBytes);
        return () -> {
            if (before == null) {
                System.clearProperty(PROPERTY);
            } else {
                System.setProperty(PROPERTY, before);
            }
        };
    }

    /** {@link #on} with 256 buffers of 16 KiB for {@link #MODE}; for any other mode, the JVM's setting. */
    public static AutoCloseable forMode(String mode) {
        return MODE.equals(mode) ? on("256x16384") : () -> { };
    }
}
