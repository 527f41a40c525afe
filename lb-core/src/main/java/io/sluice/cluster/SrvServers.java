package io.sluice.cluster;

import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Turns SRV records into servers. Sluice has two tiers, so the lowest priority value present makes the primaries
 * and every higher one the backups. SRV weights run 0-65535 and Sluice's 1-10000: a weight is kept as it is
 * inside that range, 0 becomes 1 (RFC 2782's "very small chance", the smallest weight Sluice has) and larger
 * ones become 10000.
 */
final class SrvServers {
    static final int MAX_WEIGHT = 10_000;

    private SrvServers() {
    }

    static List<ServerConfig> of(List<SrvTarget> targets) {
        List<SrvTarget> sorted = new ArrayList<>(targets);
        // A target:port listed twice keeps its most preferred record; the order is stable across answers.
        sorted.sort(Comparator.comparingInt(SrvTarget::priority).thenComparing(SrvTarget::label));
        int best = sorted.isEmpty() ? 0 : sorted.get(0).priority();
        Set<String> seen = new HashSet<>();
        List<ServerConfig> out = new ArrayList<>();
        for (SrvTarget t : sorted) {
            if (seen.add(t.label())) {
                out.add(new ServerConfig(new HostPort(t.host(), t.port()), weight(t.weight()), t.priority() > best));
            }
        }
        return out;
    }

    static int weight(int srvWeight) {
        return Math.max(1, Math.min(srvWeight, MAX_WEIGHT));
    }
}
