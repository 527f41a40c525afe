package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SocketFamilyTest {
    @TempDir
    Path dir;

    private static SluiceConfig config(String listenerBind, String server, String admin) {
        try {
            return parse(listenerBind, server, admin);
        } catch (ConfigException e) {
            throw new AssertionError(e.errors().toString(), e);
        }
    }

    private static SluiceConfig parse(String listenerBind, String server, String admin) throws ConfigException {
        return ConfigLoader.parse("""
                admin: { enabled: %s, bind: "%s" }
                listeners: [ { name: a, bind: "%s", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "10.0.0.1:80" }, { address: "%s" } ] } ]
                """.formatted(admin != null, admin != null ? admin : "127.0.0.1:9901", listenerBind, server));
    }

    @Test
    void ipv4OnlyWhenEveryAddressIsAnIpv4Literal() {
        assertThat(SocketFamily.onlyIpv4Literals(config("127.0.0.1:8080", "10.0.0.2:80", null))).isTrue();
        assertThat(SocketFamily.onlyIpv4Literals(config("*:8080", "10.0.0.2:80", "127.0.0.1:9901"))).isTrue();
    }

    @Test
    void ipv6LiteralsAndHostNamesKeepDualStack() {
        assertThat(SocketFamily.onlyIpv4Literals(config("[::]:8080", "10.0.0.2:80", null))).isFalse();
        assertThat(SocketFamily.onlyIpv4Literals(config("127.0.0.1:8080", "[fd00::2]:80", null))).isFalse();
        assertThat(SocketFamily.onlyIpv4Literals(config("127.0.0.1:8080", "app.internal:80", null))).isFalse();
        assertThat(SocketFamily.onlyIpv4Literals(config("127.0.0.1:8080", "10.0.0.2:80", "[::1]:9901"))).isFalse();
        // A disabled admin endpoint opens no socket, so its address does not count.
        assertThat(SocketFamily.addresses(config("127.0.0.1:8080", "10.0.0.2:80", null))).hasSize(3);
    }

    @Test
    void setsThePropertyOnlyWhenNobodyChoseAndTheConfigAllows() {
        Properties props = new Properties();
        assertThat(SocketFamily.apply(config("127.0.0.1:8080", "app.internal:80", null), props)).contains("dual-stack");
        assertThat(props.getProperty(SocketFamily.PROPERTY)).isNull();

        assertThat(SocketFamily.apply(config("127.0.0.1:8080", "10.0.0.2:80", null), props)).contains("IPv4");
        assertThat(props.getProperty(SocketFamily.PROPERTY)).isEqualTo("true");

        Properties given = new Properties();
        given.setProperty(SocketFamily.PROPERTY, "false");
        assertThat(SocketFamily.apply(config("127.0.0.1:8080", "10.0.0.2:80", null), given)).contains("command line");
        assertThat(given.getProperty(SocketFamily.PROPERTY)).isEqualTo("false");
    }

    /**
     * The real process: with IPv4 addresses only, its listening and backend sockets are AF_INET sockets, on every
     * transport. NIO learns of the choice too late from the property alone (the JDK reads it when its network
     * library loads, which reading the config file does): {@code Ipv4NioChannels}.
     */
    @ParameterizedTest(name = "transport {0}")
    @ValueSource(strings = {"auto", "nio", "epoll"})
    void aProcessWithIpv4AddressesOpensIpv4Sockets(String transport) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "Linux /proc/net/tcp");
        try (TestBackend backend = TestBackend.start("b", TestBackend.echo())) {
            Process p = start(backend.address(), transport);
            try {
                int port = awaitListenerPort();
                try (Socket client = Proxies.connect(port)) {
                    client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                    assertThat(new String(client.getInputStream().readNBytes(4), StandardCharsets.US_ASCII))
                            .isEqualTo("ping");
                    assertThat(sockets("/proc/net/tcp")).as("IPv4 sockets")
                            .anyMatch(s -> s.localPort() == port && s.state().equals(LISTEN))
                            .anyMatch(s -> s.remotePort() == backend.port() && s.state().equals(ESTABLISHED));
                    // Established only: sockets of earlier tests may linger in TIME_WAIT on reused ports.
                    assertThat(sockets("/proc/net/tcp6")).as("IPv6 sockets")
                            .noneMatch(s -> s.localPort() == port && s.state().equals(LISTEN))
                            .noneMatch(s -> s.remotePort() == backend.port() && s.state().equals(ESTABLISHED));
                }
                assertThat(Files.readString(dir.resolve("sluice.log"))).contains("sockets: IPv4");
            } finally {
                p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    /** A host name may resolve to IPv6, so such a process keeps dual-stack sockets. */
    @Test
    void aProcessWithAHostNameKeepsDualStackSockets() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/net/tcp6")), "Linux with IPv6");
        try (TestBackend backend = TestBackend.start("b", TestBackend.echo())) {
            Process p = start("localhost:" + backend.port(), "auto");
            try {
                int port = awaitListenerPort();
                assertThat(sockets("/proc/net/tcp6")).anyMatch(s -> s.localPort() == port && s.state().equals(LISTEN));
                assertThat(Files.readString(dir.resolve("sluice.log"))).contains("sockets: dual-stack");
            } finally {
                p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    private Process start(String server, String transport) throws IOException {
        Path cfg = dir.resolve("run.yaml");
        Files.writeString(cfg, """
                runtime: { transport: %s }
                admin: { enabled: false }
                listeners: [ { name: a, bind: "127.0.0.1:0", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(transport, server));
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.sluice.cli.Main", "run", cfg.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("sluice.log").toFile());
        // The choice under test is the process's own: no inherited JVM options may make it.
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        return builder.start();
    }

    private int awaitListenerPort() {
        Pattern bound = Pattern.compile("listener a on 127\\.0\\.0\\.1:(\\d+)");
        int[] port = new int[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Matcher m = bound.matcher(Files.readString(dir.resolve("sluice.log")));
            if (m.find()) {
                port[0] = Integer.parseInt(m.group(1));
                return true;
            }
            return false;
        });
        return port[0];
    }

    private static final String ESTABLISHED = "01";
    private static final String LISTEN = "0A";

    private record KernelSocket(int localPort, int remotePort, String state) {
    }

    /** The kernel's table of TCP sockets of one family: "sl local_address rem_address st ...", ports in hex. */
    private static List<KernelSocket> sockets(String table) throws IOException {
        return Files.readAllLines(Path.of(table)).stream().skip(1).map(line -> {
            String[] f = line.trim().split("\\s+");
            return new KernelSocket(port(f[1]), port(f[2]), f[3]);
        }).toList();
    }

    private static int port(String hexAddress) {
        return Integer.parseInt(hexAddress.substring(hexAddress.lastIndexOf(':') + 1), 16);
    }
}
