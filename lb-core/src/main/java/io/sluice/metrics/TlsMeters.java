package io.sluice.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sluice.tls.HandshakeFailure;
import io.sluice.tls.ServerTls;
import io.sluice.tls.TlsStats;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * A TLS listener's series: handshakes by version and result, failures by reason, certificate reloads, and each
 * served name's expiry. The names follow the certificates: a rotation that adds or drops a name adds or drops
 * its expiry series.
 */
final class TlsMeters {
    private final MeterRegistry registry;
    private final MeterGroup group;
    private final ServerTls tls;
    private final Map<String, Meter> expiry = new HashMap<>();

    private TlsMeters(MeterRegistry registry, MeterGroup group, ServerTls tls) {
        this.registry = registry;
        this.group = group;
        this.tls = tls;
    }

    static void bind(MeterRegistry registry, MeterGroup g, ServerTls tls) {
        String listener = tls.listener();
        TlsStats s = tls.stats();
        for (String version : TlsStats.VERSIONS) {
            g.add(FunctionCounter.builder("sluice.tls.handshakes", s, st -> st.handshakes(version))
                    .tags("listener", listener, "version", version, "result", "success")
                    .description("TLS handshakes with clients, by negotiated version and result").register(registry));
        }
        g.add(FunctionCounter.builder("sluice.tls.handshakes", s, TlsStats::failedHandshakes)
                .tags("listener", listener, "version", TlsStats.NO_VERSION, "result", "failure")
                .description("TLS handshakes with clients, by negotiated version and result").register(registry));
        for (HandshakeFailure reason : HandshakeFailure.values()) {
            g.add(FunctionCounter.builder("sluice.tls.handshake.errors", s, st -> st.failures(reason))
                    .tags("listener", listener, "reason", reason.label())
                    .description("Failed TLS handshakes with clients, by reason").register(registry));
        }
        for (boolean ok : new boolean[] {true, false}) {
            g.add(FunctionCounter.builder("sluice.tls.certificate.reloads", s, st -> st.reloads(ok))
                    .tags("listener", listener, "result", ok ? "success" : "failure")
                    .description("Certificate reloads (config reload or files changed on disk); a failure keeps "
                            + "the certificates in force").register(registry));
        }
        TlsMeters m = new TlsMeters(registry, g, tls);
        Runnable follow = m::followNames;
        tls.onChange(follow);
        g.onClose(() -> tls.removeOnChange(follow));
        m.followNames();
    }

    private synchronized void followNames() {
        Map<String, Instant> now = tls.expiry();
        expiry.entrySet().removeIf(e -> {
            if (!now.containsKey(e.getKey())) {
                group.remove(e.getValue());
                return true;
            }
            return false;
        });
        for (String name : now.keySet()) {
            expiry.computeIfAbsent(name, n -> group.add(Gauge.builder("sluice.tls.certificate.expiry.timestamp.seconds",
                            tls, t -> {
                                Instant at = t.expiry().get(n);
                                return at == null ? Double.NaN : at.getEpochSecond();
                            })
                    .tags("listener", tls.listener(), "name", n)
                    .description("When the certificate served for this name expires (notAfter), in Unix seconds")
                    .register(registry)));
        }
    }
}
