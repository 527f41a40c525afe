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
        Signals signals = install();
        signals.reloadWith(onHangup);
        signals.await();
    }

    /**
     * Installs the handlers now, before anything is started: until then the JVM's own SIGHUP action would end a
     * process that is still starting (a reload sent by a supervisor at the wrong moment), and a SIGTERM would skip
     * the drain.
     */
    static Signals install() {
        Signals signals = new Signals();
        for (String name : new String[] {"TERM", "INT"}) {
            handle(name, () -> {
                log.info("SIG{} received: draining", name);
                signals.stop.countDown();
            });
        }
        handle("HUP", signals::hangup);
        return signals;
    }

    /**
     * What the signals ask for: a stop (awaited) and reloads (run once there is something to reload). The
     * hand-over from "starting" to "running" is one locked step: a SIGHUP that reads "starting" just as the start
     * ends must still be seen by {@link #reloadWith} (a check-then-set on two fields lost it: ReloadProcessTest
     * waited in vain for its reload on a loaded machine). The reload itself runs outside the lock.
     */
    static final class Signals {
        private final CountDownLatch stop = new CountDownLatch(1);
        private Runnable onHangup;
        private boolean hangupWhileStarting;

        private void hangup() {
            Runnable reload;
            synchronized (this) {
                reload = onHangup;
                if (reload == null) {
                    hangupWhileStarting = true;
                }
            }
            if (reload == null) {
                log.info("SIGHUP received while starting: the configuration is reloaded once started");
                return;
            }
            log.info("SIGHUP received: reloading the configuration");
            reload.run();
        }

        /** From now on a SIGHUP runs {@code reload}; one that came while starting runs it now. */
        void reloadWith(Runnable reload) {
            boolean pending;
            synchronized (this) {
                onHangup = reload;
                pending = hangupWhileStarting;
                hangupWhileStarting = false;
            }
            if (pending) {
                log.info("reloading the configuration for the SIGHUP received while starting");
                reload.run();
            }
        }

        /** Blocks until SIGTERM or SIGINT (at once if one came while starting). */
        void await() {
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void handle(String name, Runnable action) {
        try {
            sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> action.run());
            // SIGINT is ignored in every job a script starts in the background, so only HUP and TERM are worth a word.
            if (before == sun.misc.SignalHandler.SIG_IGN && !name.equals("INT")) {
                // The JVM leaves a signal the parent ignored (nohup ignores SIGHUP) ignored, and says so only
                // through this answer: the operator's SIGHUP or SIGTERM would do nothing, silently.
                log.warn("SIG{} is ignored in this process (started under nohup or with it ignored): it will do "
                        + "nothing; {}", name, name.equals("HUP")
                        ? "reload with `sluice reload` or the admin API" : "stop Sluice with another signal");
            }
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.debug("cannot handle SIG{}: {}", name, e.toString());
        }
    }
}
