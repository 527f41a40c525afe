package io.sluice.l4;

import static io.sluice.testing.Proxies.exchange;
import static io.sluice.testing.Proxies.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import io.sluice.testing.Transports;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The L4 proxy as clients see it: on the default transport (on io_uring, the raw relay), on io_uring's channel
 * relay, on NIO (whose relay passes a FIN through Netty's shutdownOutput rather than the socket's) and with splice.
 */
@ParameterizedClass(name = "mode={0}")
@ValueSource(strings = {"auto", Transports.CHANNELS, "nio", Transports.SPLICE})
class L4ProxyTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @Parameter
    String mode;

    @BeforeEach
    void modeAvailable() {
        Transports.assumeAvailable(mode);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private TestBackend backend(String name, TestBackend.Behaviour b) throws IOException {
        TestBackend backend = TestBackend.start(name, b);
        resources.add(backend);
        return backend;
    }

    private Sluice sluice(String yaml) throws Exception {
        Sluice s = Proxies.start(yaml);
        resources.add(s);
        return s;
    }

    private String config(String algorithm, String extraListener, String... servers) {
        StringBuilder sb = new StringBuilder("""
                runtime: { transport: %s%s }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app%s%s }
                clusters:
                  - name: app
                    algorithm: %s
                    connect_timeout: 2s
                    servers:
                """.formatted(Transports.transportOf(mode), Transports.runtimeExtraOf(mode), Transports.isSplice(mode) ? ", splice: true" : "",
                extraListener, algorithm));
        for (String s : servers) {
            sb.append("      - ").append(s).append('\n');
        }
        return sb.toString();
    }

    private static Map<String, Integer> spread(int port, int connections) throws IOException {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < connections; i++) {
            counts.merge(exchange(port).trim(), 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void roundRobinSpreadsConnectionsEvenly() throws Exception {
        TestBackend a = backend("a", TestBackend.sayName());
        TestBackend b = backend("b", TestBackend.sayName());
        TestBackend c = backend("c", TestBackend.sayName());
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }",
                "{ address: \"" + b.address() + "\" }", "{ address: \"" + c.address() + "\" }"));

        assertThat(spread(port(s, "front"), 30)).containsOnly(Map.entry("a", 10), Map.entry("b", 10),
                Map.entry("c", 10));
    }

    @Test
    void weightedRoundRobinFollowsWeightsExactlyOverACycle() throws Exception {
        TestBackend a = backend("a", TestBackend.sayName());
        TestBackend b = backend("b", TestBackend.sayName());
        TestBackend c = backend("c", TestBackend.sayName());
        Sluice s = sluice(config("weighted_round_robin", "", "{ address: \"" + a.address() + "\", weight: 1 }",
                "{ address: \"" + b.address() + "\", weight: 2 }", "{ address: \"" + c.address() + "\", weight: 5 }"));

        assertThat(spread(port(s, "front"), 40)).containsOnly(Map.entry("a", 5), Map.entry("b", 10),
                Map.entry("c", 25));
    }

    @Test
    void maglevBySourceIpSendsOneClientToOneServer() throws Exception {
        TestBackend a = backend("a", TestBackend.sayName());
        TestBackend b = backend("b", TestBackend.sayName());
        TestBackend c = backend("c", TestBackend.sayName());
        Sluice s = sluice(config("maglev\n    hash_key: source_ip", "", "{ address: \"" + a.address() + "\" }",
                "{ address: \"" + b.address() + "\" }", "{ address: \"" + c.address() + "\" }"));

        // Every connection comes from 127.0.0.1, so every one lands on the same server.
        assertThat(spread(port(s, "front"), 12)).hasSize(1).containsValue(12);
    }

    @Test
    void leastConnectionsSendsNewWorkAwayFromABusyServer() throws Exception {
        // sayName answers at once but keeps the connection until the client closes it.
        TestBackend a = backend("a", TestBackend.sayName());
        TestBackend b = backend("b", TestBackend.sayName());
        Sluice s = sluice(config("least_connections", "", "{ address: \"" + a.address() + "\" }",
                "{ address: \"" + b.address() + "\" }"));
        int port = port(s, "front");
        List<Socket> held = new ArrayList<>();
        Map<String, Integer> heldOn = new HashMap<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket h = Proxies.connect(port);
                held.add(h);
                String name = new java.io.BufferedReader(new java.io.InputStreamReader(h.getInputStream(),
                        StandardCharsets.US_ASCII)).readLine();
                heldOn.merge(name, 1, Integer::sum);
            }
            // Three long connections split 2:1; short ones now all go to the server holding fewer.
            assertThat(heldOn.values()).containsExactlyInAnyOrder(2, 1);
            String lighter = heldOn.get("a") == 1 ? "a" : "b";
            Map<String, Integer> shortOnes = new HashMap<>();
            for (int i = 0; i < 10; i++) {
                // A finished connection is released when its server side closes, a moment after the client
                // sees the end: wait for that, or the next pick may still see it as load.
                await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").servers().stream()
                        .mapToInt(sv -> sv.activeConnections()).sum() == 3);
                shortOnes.merge(exchange(port).trim(), 1, Integer::sum);
            }
            assertThat(shortOnes).containsOnlyKeys(lighter);
        } finally {
            for (Socket h : held) {
                h.close();
            }
        }
    }

    @Test
    void deadServerIsSkippedAndCounted() throws Exception {
        TestBackend a = backend("a", TestBackend.sayName());
        TestBackend b = backend("b", TestBackend.sayName());
        int deadPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }",
                "{ address: \"127.0.0.1:" + deadPort + "\" }", "{ address: \"" + b.address() + "\" }"));

        Map<String, Integer> counts = spread(port(s, "front"), 30);

        assertThat(counts.keySet()).containsOnly("a", "b");
        assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(30);
        var dead = s.cluster("app").servers().get(1);
        // Every connection still reached a live server; the dead one cost a retry each time it came up.
        assertThat(dead.connectErrors().sum()).isBetween(10L, 30L);
        assertThat(dead.activeConnections()).isZero();
    }

    @Test
    void allServersDownClosesTheClientAtOnce() throws Exception {
        int deadPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            deadPort = probe.getLocalPort();
        }
        Sluice s = sluice(config("round_robin", "", "{ address: \"127.0.0.1:" + deadPort + "\" }"));

        assertThat(exchange(port(s, "front"))).isEmpty();
        assertThat(s.listener("front").stats().noServer()).isEqualTo(1);
    }

    @Test
    void halfCloseIsPassedOnBothWays() throws Exception {
        TestBackend a = backend("a", TestBackend.countThenReply());
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }"));

        try (Socket client = Proxies.connect(port(s, "front"))) {
            OutputStream out = client.getOutputStream();
            out.write(new byte[12345]);
            out.flush();
            // The backend answers only after it sees our FIN; we then see its FIN as end of stream.
            client.shutdownOutput();
            assertThat(Proxies.readAll(client.getInputStream())).isEqualTo("12345 bytes to a\n");
        }
        var server = s.cluster("app").servers().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0);
        assertThat(server.bytesSent().sum()).isEqualTo(12345);
        assertThat(server.bytesReceived().sum()).isEqualTo("12345 bytes to a\n".length());
        assertThat(s.listener("front").stats().active()).isZero();
    }

    @Test
    void serverThatFinishesFirstStillReadsTheClientToItsEnd() throws Exception {
        AtomicLong drained = new AtomicLong(-1);
        TestBackend a = backend("a", (socket, b) -> {
            OutputStream out = socket.getOutputStream();
            out.write("done\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.shutdownOutput();
            drained.set(TestBackend.drain(socket.getInputStream()));
        });
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }"));

        try (Socket client = Proxies.connect(port(s, "front"))) {
            // The server's FIN reaches us first; our bytes sent after it must still reach the server, then our FIN.
            assertThat(Proxies.readAll(client.getInputStream())).isEqualTo("done\n");
            OutputStream out = client.getOutputStream();
            out.write(new byte[300_000]);
            out.flush();
            client.shutdownOutput();
            await().atMost(Duration.ofSeconds(10)).until(() -> drained.get() >= 0);
        }
        assertThat(drained.get()).isEqualTo(300_000);
        var server = s.cluster("app").servers().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0);
        assertThat(s.listener("front").stats().active()).isZero();
    }

    @Test
    void maxConnectionsRefusesTheExtraConnection() throws Exception {
        TestBackend a = backend("a", TestBackend.hold());
        Sluice s = sluice(config("round_robin", ", max_connections: 2", "{ address: \"" + a.address() + "\" }"));
        int port = port(s, "front");

        try (Socket c1 = Proxies.connect(port); Socket c2 = Proxies.connect(port)) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 2);
            try (Socket c3 = Proxies.connect(port)) {
                assertThat(c3.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(s.listener("front").stats().rejected()).isEqualTo(1);
            assertThat(a.accepted()).isEqualTo(2);
        }
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        TestBackend a = backend("a", TestBackend.hold());
        Sluice s = sluice(config("round_robin", ", idle_timeout: 1s", "{ address: \"" + a.address() + "\" }"));

        try (Socket c = Proxies.connect(port(s, "front"))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.accepted() == 1);
            // The proxy closes the idle pair: the client sees end of stream, the backend loses its peer.
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 0);
        }
    }

    @Test
    void drainTimeoutClosesTheConnectionsLeft() throws Exception {
        TestBackend a = backend("a", TestBackend.hold());
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }"));

        try (Socket c = Proxies.connect(port(s, "front"))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 1);
            // Neither side will ever end this relay: only the drain timeout can.
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> s.shutdown(Duration.ofMillis(500)));
            shutdown.get(30, TimeUnit.SECONDS);
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 0);
        }
    }

    @Test
    void backendClosingMidStreamClosesOnlyThatClient() throws Exception {
        List<Socket> served = new CopyOnWriteArrayList<>();
        TestBackend.Behaviour echo = TestBackend.echo();
        TestBackend a = backend("a", (socket, b) -> {
            served.add(socket);
            echo.serve(socket, b);
        });
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }"));
        int port = port(s, "front");

        try (Socket victim = Proxies.connect(port)) {
            // The bystander connects only after the victim's round trip: the victim's server side is served first.
            Proxies.roundTrip(victim, "one");
            try (Socket bystander = Proxies.connect(port)) {
                Proxies.roundTrip(bystander, "two");
                assertThat(served).hasSize(2);
                served.get(0).close();
                assertThat(victim.getInputStream().read()).isEqualTo(-1);
                // The other client's pair of connections is untouched: bytes still go round both ways.
                Proxies.roundTrip(bystander, "three");
            }
        }
    }

    @Test
    void serverRestartedOnItsPortTakesNewConnections() throws Exception {
        TestBackend a = backend("a", TestBackend.echo());
        Sluice s = sluice(config("round_robin", "", "{ address: \"" + a.address() + "\" }"));
        int port = port(s, "front");

        try (Socket c = Proxies.connect(port)) {
            Proxies.roundTrip(c, "one");
            a.close();
            assertThat(c.getInputStream().read()).isEqualTo(-1);
        }
        try (TestBackend again = TestBackend.startOn(a.port(), "a2", TestBackend.sayName())) {
            assertThat(exchange(port).trim()).isEqualTo("a2");
        }
    }
}
