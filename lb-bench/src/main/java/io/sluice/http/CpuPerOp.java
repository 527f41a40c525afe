package io.sluice.http;

import java.lang.management.ManagementFactory;

/**
 * The benchmark thread's CPU time per operation over one JMH iteration, printed at its end ({@code cpu ns/op}):
 * steadier than the wall time on a machine other work shares.
 */
final class CpuPerOp {
    private long cpuStart;
    private long ops;

    /** At the iteration's start. */
    void start() {
        ops = 0;
        cpuStart = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    void op() {
        ops++;
    }

    /** At the iteration's end. */
    void print() {
        long cpu = ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpuStart;
        System.out.printf("%ncpu ns/op: %.1f (%d ops)%n", (double) cpu / ops, ops);
    }
}
