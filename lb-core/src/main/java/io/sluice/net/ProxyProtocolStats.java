package io.sluice.net;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** Connections a listener closed over their PROXY protocol header, by reason. */
public final class ProxyProtocolStats {
    /** The metric's {@code reason} label values: a fixed set. */
    public enum Reason {
        /** A source outside {@code trusted} on a listener that requires the header. */
        UNTRUSTED("untrusted"),
        /** Bytes that are not a valid v1 or v2 header. */
        MALFORMED("malformed"),
        /** The client closed in the middle of the header. */
        TRUNCATED("truncated"),
        /** The header was not complete within {@code proxy_protocol.timeout}. */
        TIMEOUT("timeout");

        private final String label;

        Reason(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);

    public ProxyProtocolStats() {
        for (Reason r : Reason.values()) {
            counts.put(r, new LongAdder());
        }
    }

    void countFailure(Reason reason) {
        counts.get(reason).increment();
    }

    public long count(Reason reason) {
        return counts.get(reason).sum();
    }
}
