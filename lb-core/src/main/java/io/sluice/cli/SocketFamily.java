package io.sluice.cli;

import io.sluice.config.ClusterConfig;
import io.sluice.config.HostPort;
import io.sluice.config.ListenerConfig;
import io.sluice.config.ServerConfig;
import io.sluice.config.SluiceConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Chooses IPv4 sockets for a process whose config names only IPv4 addresses. The JDK and Netty otherwise
 * open every TCP socket as an IPv6 dual-stack socket that reaches IPv4 peers through mapped addresses, and
 * the kernel's IPv6 paths for connect, getsockname and close cost 1-5% of the CPU per new proxied TCP connection
 * (A/B in docs/bench/measurements-2026-11-30.md). The choice is process-wide ({@code java.net.preferIPv4Stack},
 * read once when Netty and the JDK's network classes load), so it is made before anything opens a socket, and
 * only when no listener, server or admin address could need IPv6: IPv6 literals and host names (which may
 * resolve to IPv6) keep dual-stack sockets. A wildcard bind ({@code *} or {@code 0.0.0.0}) then listens on IPv4
 * only, as documented; {@code [::]} listens on both.
 */
final class SocketFamily {
    static final String PROPERTY = "java.net.preferIPv4Stack";

    private SocketFamily() {
    }

    /** Every address the process binds or connects to, as written in the config. */
    static List<HostPort> addresses(SluiceConfig config) {
        List<HostPort> all = new ArrayList<>();
        for (ListenerConfig l : config.listeners()) {
            all.add(l.bind());
        }
        for (ClusterConfig c : config.clusters()) {
            for (ServerConfig s : c.servers()) {
                all.add(s.address());
            }
        }
        if (config.admin().enabled()) {
            all.add(config.admin().bind());
        }
        all.addAll(config.runtime().dnsServers());
        return all;
    }

    static boolean onlyIpv4Literals(SluiceConfig config) {
        if (config.clusters().stream().anyMatch(c -> !c.srv().isEmpty())) {
            return false; // SRV targets are host names, which may resolve to IPv6
        }
        for (HostPort hp : addresses(config)) {
            if (!hp.isIpv4Literal()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sets IPv4 sockets for this process when the config allows it and nobody chose already (an explicit
     * {@code -Djava.net.preferIPv4Stack=...} wins). Returns a line for the startup log.
     */
    static String apply(SluiceConfig config, Properties system) {
        String chosen = system.getProperty(PROPERTY);
        if (chosen != null) {
            return "sockets: " + PROPERTY + "=" + chosen + " as given on the command line";
        }
        if (!onlyIpv4Literals(config)) {
            return "sockets: dual-stack IPv6 (the config names an IPv6 address or a host name)";
        }
        system.setProperty(PROPERTY, "true");
        return "sockets: IPv4 (every address in the config is an IPv4 literal)";
    }
}
