package io.sluice.health;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * One thing being checked: a label for logs, where to probe, and its rise/fall state. Everything but
 * {@link #up()} is touched only on the target's event loop.
 */
public final class HealthTarget {
    private final String label;
    private final Supplier<InetSocketAddress> address;
    private final ProbeSpec spec;
    private final EventLoop loop;
    private final RiseFall state;
    private final Object context;
    private volatile boolean up;
    ScheduledFuture<?> next;
    boolean removed;

    HealthTarget(String label, Supplier<InetSocketAddress> address, ProbeSpec spec, EventLoop loop,
                 boolean initialUp, Object context) {
        this.context = context;
        this.label = label;
        this.address = address;
        this.spec = spec;
        this.loop = loop;
        this.state = new RiseFall(spec.rise(), spec.fall(), initialUp);
        this.up = initialUp;
    }

    public String label() {
        return label;
    }

    /** Whatever the caller attached when adding the target (lb-core attaches its server). */
    public Object context() {
        return context;
    }

    public ProbeSpec spec() {
        return spec;
    }

    /** Where the next probe goes, or null while unknown (for example a host name not resolved yet). */
    InetSocketAddress probeAddress() {
        InetSocketAddress a = address.get();
        if (a == null || spec.port() == 0) {
            return a;
        }
        return new InetSocketAddress(a.getAddress(), spec.port());
    }

    EventLoop loop() {
        return loop;
    }

    RiseFall state() {
        return state;
    }

    void up(boolean value) {
        this.up = value;
    }

    /** The last state reported; safe to read from any thread. */
    public boolean up() {
        return up;
    }

    @Override
    public String toString() {
        return label;
    }
}
