package io.sluice.cluster;

import java.time.Duration;
import java.util.List;

/** What one SRV lookup brought: its result, and on success the targets and the answer's shortest TTL. */
record SrvAnswer(DnsResolutions.Result result, List<SrvTarget> targets, Duration ttl) {

    static SrvAnswer failed(DnsResolutions.Result result) {
        return new SrvAnswer(result, List.of(), Duration.ZERO);
    }

    boolean succeeded() {
        return result == DnsResolutions.Result.SUCCESS;
    }
}
