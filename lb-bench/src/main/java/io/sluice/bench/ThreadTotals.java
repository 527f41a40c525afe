package io.sluice.bench;

import java.lang.management.ManagementFactory;
import java.util.function.ToLongBiFunction;

/**
 * HotSpot's per-thread counters summed over the live threads whose name starts with a prefix: what Sluice's own
 * threads spend, apart from the benchmark's clients and servers running in the same JVM (which JMH's
 * {@code -prof gc} counts together).
 */
final class ThreadTotals {
    private static final com.sun.management.ThreadMXBean MX =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private ThreadTotals() {
    }

    /** Bytes allocated so far by the threads named {@code prefix}*. */
    static long allocatedBytes(String prefix) {
        return sum(prefix, com.sun.management.ThreadMXBean::getThreadAllocatedBytes);
    }

    /** CPU nanoseconds used so far by the threads named {@code prefix}*. */
    static long cpuNanos(String prefix) {
        return sum(prefix, com.sun.management.ThreadMXBean::getThreadCpuTime);
    }

    private static long sum(String prefix, ToLongBiFunction<com.sun.management.ThreadMXBean, Long> counter) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix)) {
                long v = counter.applyAsLong(MX, t.getId());
                if (v > 0) { // -1: the thread ended meanwhile
                    sum += v;
                }
            }
        }
        return sum;
    }
}
