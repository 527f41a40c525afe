package io.sluice.health;

import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Envoy's consecutive-failure outlier detection for one group of targets. Live traffic reports successes
 * and failures from any event loop; {@code consecutiveFailures} failures in a row eject a target for
 * {@code baseEjectionTime × ejections so far} (capped at {@code maxEjectionTime}), unless that would put
 * more than {@code maxEjectionPercent} of the group out at once. A success costs one volatile read.
 */
public final class OutlierDetector {

    /** Told when a target is ejected or comes back. Called from any thread; must not block. */
    public interface Listener {
        void ejected(Tracker tracker, String reason);

        void returned(Tracker tracker, String reason);
    }

    public record Settings(int consecutiveFailures, Duration baseEjectionTime, Duration maxEjectionTime,
                           int maxEjectionPercent) {
    }

    /** Per-target failure run and ejection state. */
    public static final class Tracker {
        private final String label;
        private final Object context;
        private final AtomicInteger consecutive = new AtomicInteger();
        private volatile boolean ejected;
        /** Untracked: its target left the group; failures no longer count and ejections end. */
        private volatile boolean removed;
        private int ejections;

        Tracker(String label, Object context) {
            this.label = label;
            this.context = context;
        }

        /** Whatever the caller attached when it started tracking (lb-core attaches its server). */
        public Object context() {
            return context;
        }

        public String label() {
            return label;
        }

        public boolean ejected() {
            return ejected;
        }

        /** How many times this target has been ejected. */
        public synchronized int ejections() {
            return ejections;
        }
    }

    private final Settings settings;
    private final EventExecutor scheduler;
    private final Listener listener;
    private int total;
    private int ejectedNow;

    public OutlierDetector(Settings settings, EventExecutor scheduler, Listener listener) {
        this.settings = settings;
        this.scheduler = scheduler;
        this.listener = listener;
    }

    public synchronized Tracker track(String label, Object context) {
        total++;
        return new Tracker(label, context);
    }

    /**
     * Stops counting {@code t} in the group (its target was removed): it no longer takes part in the ejection
     * share, and if it was ejected, that ejection no longer counts against the others.
     */
    public synchronized void untrack(Tracker t) {
        if (t.removed) {
            return;
        }
        t.removed = true;
        total--;
        if (t.ejected) {
            t.ejected = false;
            ejectedNow--;
        }
    }

    public void success(Tracker t) {
        if (t.consecutive.get() != 0) {
            t.consecutive.set(0);
        }
    }

    public void failure(Tracker t) {
        if (t.removed) {
            return;
        }
        if (t.consecutive.incrementAndGet() >= settings.consecutiveFailures() && !t.ejected) {
            tryEject(t);
        }
    }

    private void tryEject(Tracker t) {
        Duration duration;
        synchronized (this) {
            if (t.ejected) {
                return;
            }
            if ((ejectedNow + 1) * 100L > (long) settings.maxEjectionPercent() * total) {
                return; // would eject too much of the group: keep serving, keep counting
            }
            ejectedNow++;
            t.ejected = true;
            synchronized (t) {
                t.ejections++;
                duration = settings.baseEjectionTime().multipliedBy(t.ejections);
            }
            if (duration.compareTo(settings.maxEjectionTime()) > 0) {
                duration = settings.maxEjectionTime();
            }
        }
        listener.ejected(t, "after " + settings.consecutiveFailures() + " consecutive failures, for "
                + duration.toMillis() + "ms");
        scheduler.schedule(() -> unEject(t), duration.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void unEject(Tracker t) {
        synchronized (this) {
            if (!t.ejected || t.removed) {
                return;
            }
            t.ejected = false;
            ejectedNow--;
            t.consecutive.set(0);
        }
        listener.returned(t, "ejection time over");
    }

    /** Targets ejected now. */
    public synchronized int ejectedCount() {
        return ejectedNow;
    }
}
