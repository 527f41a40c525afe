package io.sluice.udp;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Live counters of one UDP listener, read by metrics: datagrams and bytes each way, drops by reason, flows. */
public final class UdpStats {
    /** Why a datagram was not forwarded. */
    public enum Drop {
        /** A new client while {@code udp.max_flows} flows were open. */
        FLOW_LIMIT,
        /** No server available for a new flow. */
        NO_SERVER,
        /** A flow's socket to its server was still opening and already held its share of early datagrams. */
        QUEUE_FULL,
        /** The socket it was to leave by could take no more (its send buffer full). */
        UNWRITABLE,
        /** A new flow's socket to its server could not be made (out of file descriptors or direct memory). */
        SOCKET_ERROR,
        /** The client was over one of the listener's {@code limits} (flows or datagrams per second). */
        LIMITED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final LongAdder datagramsReceived = new LongAdder();
    private final LongAdder datagramsSent = new LongAdder();
    private final LongAdder bytesReceived = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder[] drops = new LongAdder[Drop.values().length];
    private final AtomicInteger flows = new AtomicInteger();

    public UdpStats() {
        for (int i = 0; i < drops.length; i++) {
            drops[i] = new LongAdder();
        }
    }

    void received(int bytes) {
        datagramsReceived.increment();
        bytesReceived.add(bytes);
    }

    void sent(int bytes) {
        datagramsSent.increment();
        bytesSent.add(bytes);
    }

    void dropped(Drop why) {
        drops[why.ordinal()].increment();
    }

    /** Takes a flow slot, or false when {@code max} are open. */
    boolean openFlow(int max) {
        while (true) {
            int n = flows.get();
            if (n >= max) {
                return false;
            }
            if (flows.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void closeFlow() {
        flows.decrementAndGet();
    }

    /** Datagrams that came from clients. */
    public long datagramsReceived() {
        return datagramsReceived.sum();
    }

    /** Datagrams sent to clients (servers' replies). */
    public long datagramsSent() {
        return datagramsSent.sum();
    }

    public long bytesReceived() {
        return bytesReceived.sum();
    }

    public long bytesSent() {
        return bytesSent.sum();
    }

    public long drops(Drop why) {
        return drops[why.ordinal()].sum();
    }

    /** Flows open now. */
    public int flows() {
        return flows.get();
    }
}
