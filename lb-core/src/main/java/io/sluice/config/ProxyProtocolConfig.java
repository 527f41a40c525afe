package io.sluice.config;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * {@code listeners[].proxy_protocol}: whether clients (a balancer in front) announce the real client with a PROXY
 * protocol header (v1 or v2) before their first byte.
 *
 * @param accept  {@link Accept#TRUE}: a trusted source must send the header, an untrusted one is closed;
 *                {@link Accept#OPTIONAL}: a trusted source may send it, an untrusted one is taken as it is
 * @param trusted the sources whose header is believed; never empty when {@code accept} is not false
 * @param timeout the header must be complete within this time of the connect; with {@code optional}, a source that
 *                sends nothing for this long (a client of a protocol where the server speaks first) goes on without
 */
public record ProxyProtocolConfig(Accept accept, List<Cidr> trusted, Duration timeout) {
    public static final Accept DEFAULT_ACCEPT = Accept.FALSE;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

    public ProxyProtocolConfig {
        trusted = List.copyOf(trusted);
    }

    public enum Accept {
        TRUE, OPTIONAL, FALSE
    }

    public boolean enabled() {
        return accept != Accept.FALSE;
    }

    public boolean trusts(InetAddress source) {
        for (Cidr c : trusted) {
            if (c.contains(source)) {
                return true;
            }
        }
        return false;
    }
}
