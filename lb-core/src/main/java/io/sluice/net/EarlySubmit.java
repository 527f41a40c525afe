package io.sluice.net;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.uring.SluiceRings;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets code on an io_uring event loop send what the loop has queued before it starts expensive work, instead of
 * at the end of the loop pass ({@link SluiceRings}). Used before each TLS handshake step: a pass that reads many
 * ClientHellos otherwise holds every response and handshake reply queued in it until the last handshake is
 * computed, and the tail latency of a listener taking new TLS connections grows with how many arrive together.
 * A no-op on other transports (they write at once) and where Netty's internals are not as expected.
 */
public final class EarlySubmit {
    private static final Logger log = LoggerFactory.getLogger(EarlySubmit.class);
    private static final AtomicBoolean REFUSAL_LOGGED = new AtomicBoolean();

    private EarlySubmit() {
    }

    /** Wraps io_uring's own handler factory (before any other wrapper: it needs Netty's handler itself). */
    public static IoHandlerFactory wrap(IoHandlerFactory ioUring) {
        return new WrappedHandlers(ioUring, Bound::new);
    }

    /** On an event loop's thread: queued submissions go to the kernel now. Never throws. */
    public static void now() {
        if (!SluiceRings.submitQueued() && REFUSAL_LOGGED.compareAndSet(false, true)) {
            log.warn("io_uring refused an early submission; the loop pass's own submission sends it (logged once)");
        }
    }

    /** Binds the loop's thread to its ring when the loop starts (Netty initialises handlers on that thread). */
    private static final class Bound extends ForwardingIoHandler {
        Bound(IoHandler io) {
            super(io);
        }

        @Override
        public void initialize() {
            super.initialize();
            if (!SluiceRings.bind(io)) {
                log.info("io_uring loop {}: no early submissions (Netty's handler is not as expected); TLS handshakes"
                        + " in one loop pass then hold each other's replies until the pass ends",
                        Thread.currentThread().getName());
            }
        }
    }
}
