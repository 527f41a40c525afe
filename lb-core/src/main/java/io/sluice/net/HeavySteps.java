package io.sluice.net;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most a few expensive steps per event-loop pass, each after the pass's IO: a TLS handshake's first step (the
 * key exchange and the signature, 100-300 µs of CPU) is one. Without a limit, a pass that reads the ClientHellos
 * of many new connections computes them all before it handles anything else, and every request and response of
 * the loop's established connections that arrives meanwhile waits for the lot: the latency of the served traffic
 * grows with how many clients connect together. HAProxy runs its TLS handshakes as "heavy" tasks for the same
 * reason, a bounded number per loop.
 *
 * <p>A step that cannot start in this pass waits in the loop's queue (first come, first served) and starts after
 * the IO of a later pass; while any waits, the loop does not block for IO. {@code -Dsluice.heavyStepsPerPass=N}
 * sets the budget (default 1); 0 lets every step run at once, as without pacing. Loops this class did not wrap
 * (tests' own, Netty's embedded channel) run every step at once.
 */
public final class HeavySteps {
    static final String PROPERTY = "sluice.heavyStepsPerPass";
    private static final Logger log = LoggerFactory.getLogger(HeavySteps.class);
    private static final int PER_PASS = Integer.getInteger(PROPERTY, 1);
    private static final FastThreadLocal<Pacer> PACER = new FastThreadLocal<>();

    private HeavySteps() {
    }

    /** Paces the loops of this factory's handlers, unless the budget is 0. */
    public static IoHandlerFactory pace(IoHandlerFactory factory) {
        return PER_PASS <= 0 ? factory : new WrappedHandlers(factory, Paced::new);
    }

    /**
     * On an event loop's thread: whether a heavy step may run now, counted against this pass if so. False when
     * the pass has spent its budget or others wait already (they go first); the caller then hands the step to
     * {@link #later}.
     */
    public static boolean mayStartNow() {
        Pacer p = PACER.getIfExists();
        return p == null || p.tryStart();
    }

    /**
     * On an event loop's thread, after {@link #mayStartNow} said false: runs the step after the IO of a later pass,
     * behind those already waiting. The step must not throw (it is logged and dropped if it does).
     */
    public static void later(Runnable step) {
        Pacer p = PACER.getIfExists();
        if (p == null) {
            step.run();
        } else {
            p.waiting.add(step);
        }
    }

    /** One loop's budget and queue; used by that loop's thread only. */
    private static final class Pacer {
        final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
        int started;

        boolean tryStart() {
            if (started < PER_PASS && waiting.isEmpty()) {
                started++;
                return true;
            }
            return false;
        }

        void runWaiting() {
            Runnable step;
            while (started < PER_PASS && (step = waiting.poll()) != null) {
                started++;
                try {
                    step.run();
                } catch (RuntimeException e) {
                    log.warn("a paced step failed on event loop {}", Thread.currentThread().getName(), e);
                }
            }
        }
    }

    /** Starts each pass with a fresh budget, and runs waiting steps once the pass's IO is handled. */
    private static final class Paced extends ForwardingIoHandler {
        private final Pacer pacer = new Pacer();
        private final Unblocking unblocking = new Unblocking();

        Paced(IoHandler io) {
            super(io);
        }

        @Override
        public void initialize() {
            super.initialize();
            PACER.set(pacer);
        }

        /**
         * The wait for IO is decided as the wrapped run begins, before any handler runs: with steps waiting it
         * must not block (their IO may never come). Without, the loop's own context goes through untouched.
         */
        @Override
        public int run(IoHandlerContext context) {
            pacer.started = 0;
            if (pacer.waiting.isEmpty()) {
                return io.run(context);
            }
            unblocking.context = context;
            int handled = io.run(unblocking);
            pacer.runWaiting();
            return handled;
        }
    }

    private static final class Unblocking extends ForwardingIoHandlerContext {
        @Override
        public boolean canBlock() {
            return false;
        }
    }
}
