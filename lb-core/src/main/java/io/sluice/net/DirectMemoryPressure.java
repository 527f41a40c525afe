package io.sluice.net;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * Whether direct memory is close to the JVM's limit ({@code -XX:MaxDirectMemorySize}, by default the heap's
 * maximum). Past the limit an allocation fails; just before it, the JDK makes every new 4 MiB pool chunk wait for
 * a full {@code System.gc()} and up to about half a second of sleeps, on the event loop that asked. So Sluice
 * sheds the connections that hold the most for the least reason (clients that stopped reading) once use passes
 * {@link #HIGH_SHARE} of the limit, well before either.
 *
 * <p>Use is the larger of the JDK's count of direct buffers (what its limit applies to) and Netty's own (what
 * Netty's limit applies to when it allocates without a cleaner). Both are plain counter reads.
 */
public final class DirectMemoryPressure {
    public static final double HIGH_SHARE = 0.75;
    public static final DirectMemoryPressure JVM = new DirectMemoryPressure(PlatformDependent.maxDirectMemory());

    private static final BufferPoolMXBean JDK_DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(b -> b.getName().equals("direct")).findFirst().orElse(null);

    private final long high;

    /** Pressure past {@link #HIGH_SHARE} of {@code limit} bytes. */
    public DirectMemoryPressure(long limit) {
        this.high = (long) (limit * HIGH_SHARE);
    }

    public static long used() {
        long jdk = JDK_DIRECT == null ? 0 : JDK_DIRECT.getMemoryUsed();
        return Math.max(jdk, PlatformDependent.usedDirectMemory());
    }

    public boolean high() {
        return used() > high;
    }
}
