package io.sluice.cli;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns SIGTERM and SIGINT into an orderly drain, and SIGHUP into a reload. A plain shutdown hook would run
 * while the JVM is already exiting with status 143; handling the signal lets the drain finish and the process
 * exit 0. The JVM's own SIGHUP handling runs the shutdown hooks and exits: installing a handler replaces it,
 * so a SIGHUP never stops the process.
 */
final class Shutdown {
    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);

    private Shutdown() {
    }

    /** Blocks until SIGTERM or SIGINT; each SIGHUP meanwhile calls {@code onHangup} (on the signal's thread). */
    static void awaitSignal(Runnable onHangup) {
        CountDownLatch signalled = new CountDownLatch(1);
        for (String name : new String[] {"TERM", "INT"}) {
            handle(name, () -> {
                log.info("SIG{} received: draining", name);
                signalled.countDown();
            });
        }
        handle("HUP", () -> {
            log.info("SIGHUP received: reloading the configuration");
            onHangup.run();
        });
        try {
            signalled.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void handle(String name, Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> action.run());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.debug("cannot handle SIG{}: {}", name, e.toString());
        }
    }
}
