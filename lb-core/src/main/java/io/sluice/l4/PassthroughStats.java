package io.sluice.l4;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What SNI passthrough did with each client of one TCP listener ({@code sluice_tls_passthrough_total}), by route
 * label and result. A label's counts outlive reloads that keep the route, so series do not reset; the forwarding
 * path holds the {@link Counts} of its route and never looks a label up.
 */
public final class PassthroughStats {
    /** The route label of connections that went to the listener's own cluster. */
    public static final String DEFAULT_ROUTE = "default";
    /** The route label of connections closed before any route was chosen. */
    public static final String NO_ROUTE = "";

    /** The {@code result} label. */
    public enum Result {
        ROUTED("routed"), NO_SNI("no_sni"), NOT_TLS("not_tls"), TIMEOUT("timeout"), MALFORMED("malformed");

        private final String label;

        Result(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One {@code sluice_tls_passthrough_total} series a listener can have. */
    public record Series(String route, Result result) {
    }

    /** The counts of one route label. */
    public static final class Counts {
        private final LongAdder[] byResult = new LongAdder[Result.values().length];

        Counts() {
            for (int i = 0; i < byResult.length; i++) {
                byResult[i] = new LongAdder();
            }
        }

        void count(Result result) {
            byResult[result.ordinal()].increment();
        }

        public long get(Result result) {
            return byResult[result.ordinal()].sum();
        }
    }

    private final Map<String, Counts> byRoute = new ConcurrentHashMap<>();

    Counts route(String label) {
        return byRoute.computeIfAbsent(label, l -> new Counts());
    }

    /** Forgets the labels no route carries any more, so a removed route's series goes with it. */
    void keepOnly(Set<String> labels) {
        byRoute.keySet().retainAll(labels);
    }

    /** The count of {@code result} under route label {@code route}; 0 for a label never counted. */
    public long count(String route, Result result) {
        Counts c = byRoute.get(route);
        return c == null ? 0 : c.get(result);
    }
}
