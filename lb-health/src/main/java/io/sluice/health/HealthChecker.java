package io.sluice.health;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Probes targets on the event loops it is given: each target is pinned to one loop and re-schedules itself
 * there, so thousands of targets cost timers, not threads, and nothing ever blocks. Knows nothing of what
 * the targets are for; state changes go to the {@link HealthListener}.
 */
public final class HealthChecker implements AutoCloseable {
    private final EventLoopGroup group;
    private final Prober prober;
    private final HealthListener listener;
    private final Set<HealthTarget> targets = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** A checker without DNS checks (they fail): for callers whose clusters have none. */
    public HealthChecker(EventLoopGroup group, Class<? extends Channel> channelClass, HealthListener listener) {
        this(group, channelClass, null, listener);
    }

    /** {@code datagramClass}: the group's datagram channel, for DNS checks over UDP. */
    public HealthChecker(EventLoopGroup group, Class<? extends Channel> channelClass,
                         Class<? extends Channel> datagramClass, HealthListener listener) {
        this.group = group;
        this.prober = new Prober(channelClass, datagramClass);
        this.listener = listener;
    }

    /**
     * Starts checking a target. The first probe runs after a random share of one interval, so targets added
     * together do not probe together.
     *
     * @param address where to probe, read before every probe; null skips that round (not a failure)
     * @param context  handed back through {@link HealthTarget#context()}
     */
    public HealthTarget add(String label, Supplier<InetSocketAddress> address, ProbeSpec spec, boolean initialUp,
                            Object context) {
        HealthTarget t = new HealthTarget(label, address, spec, group.next(), initialUp, context);
        targets.add(t);
        long first = ThreadLocalRandom.current().nextLong(Math.max(1, spec.interval().toMillis()));
        t.loop().execute(() -> schedule(t, first));
        return t;
    }

    public void remove(HealthTarget t) {
        targets.remove(t);
        t.loop().execute(() -> {
            t.removed = true;
            if (t.next != null) {
                t.next.cancel(false);
            }
        });
    }

    public int size() {
        return targets.size();
    }

    private void schedule(HealthTarget t, long delayMillis) {
        if (t.removed || closed) {
            return;
        }
        t.next = t.loop().schedule(() -> run(t), delayMillis, TimeUnit.MILLISECONDS);
    }

    private void run(HealthTarget t) {
        if (t.removed || closed) {
            return;
        }
        InetSocketAddress address = t.probeAddress();
        if (address == null) {
            schedule(t, nextDelay(t.spec()));
            return;
        }
        long start = System.nanoTime();
        prober.probe(t, address, result -> {
            long took = System.nanoTime() - start;
            if (t.removed || closed) {
                return;
            }
            listener.probed(t, result, took);
            if (t.state().record(result.passed())) {
                boolean up = t.state().up();
                t.up(up);
                ProbeSpec spec = t.spec();
                String kind = spec.kind().name().toLowerCase(java.util.Locale.ROOT);
                String reason = up ? "after " + spec.rise() + " passed " + kind + " check" + (spec.rise() > 1 ? "s" : "")
                        : "after " + spec.fall() + " failed " + kind + " check" + (spec.fall() > 1 ? "s" : "")
                        + ": " + result.detail();
                listener.stateChanged(t, up, reason);
            }
            schedule(t, nextDelay(t.spec()));
        });
    }

    private static long nextDelay(ProbeSpec spec) {
        long interval = spec.interval().toMillis();
        long jitter = spec.jitter().toMillis();
        if (jitter <= 0) {
            return interval;
        }
        return Math.max(1, interval + ThreadLocalRandom.current().nextLong(-jitter, jitter + 1));
    }

    @Override
    public void close() {
        closed = true;
        for (HealthTarget t : targets) {
            remove(t);
        }
        prober.closeAll();
    }
}
