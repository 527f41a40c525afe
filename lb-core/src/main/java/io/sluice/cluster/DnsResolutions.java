package io.sluice.cluster;

import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cluster's SRV lookups by outcome, read by {@code sluice_dns_resolutions_total{cluster,result}}. The results
 * are a fixed set, so the series stay bounded whatever the DNS servers answer.
 */
public final class DnsResolutions {

    /** How one lookup ended. */
    public enum Result {
        /** An answer with at least one SRV record. */
        SUCCESS,
        /** NXDOMAIN, or an answer without SRV records: the name names no servers. */
        NXDOMAIN,
        /** The DNS server failed to answer (SERVFAIL). */
        SERVFAIL,
        /** No answer in time from any DNS server. */
        TIMEOUT,
        /** Anything else: another response code, a malformed answer, a socket error. */
        ERROR;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final LongAdder[] counts = new LongAdder[Result.values().length];

    public DnsResolutions() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    void increment(Result result) {
        counts[result.ordinal()].increment();
    }

    public long count(Result result) {
        return counts[result.ordinal()].sum();
    }
}
