package io.sluice.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.ChannelException;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The datagram relay with a Java backend: counts, flows, limits and buffers on every transport. */
class UdpRelayTest {
    @AutoClose
    final Resources resources = new Resources();

    private Sluice sluice(String transport, String udp, String... servers) throws Exception {
        StringBuilder list = new StringBuilder();
        for (String s : servers) {
            list.append(list.isEmpty() ? "" : ", ").append("{ address: \"").append(s).append("\" }");
        }
        return resources.keep(Proxies.start("""
                runtime: { transport: %s, worker_threads: 2 }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", protocol: udp, cluster: app, udp: { %s } }
                clusters:
                  - name: app
                    servers: [ %s ]
                """.formatted(transport, udp, list)));
    }

    /**
     * Sluice on {@code variant}'s transport: "io_uring" (flows on bare io_uring sockets), "io_uring-channels"
     * (io_uring with each flow's socket a Netty channel, as before bare sockets), "epoll" or "nio".
     */
    private Sluice sluiceOn(String variant, String udp, String... servers) throws Exception {
        String transport = variant.equals("io_uring-channels") ? "io_uring" : variant;
        Transports.assumeAvailable(transport);
        Sluice s = sluice(transport, udp, servers);
        UdpListener listener = (UdpListener) s.listener("front");
        if (!transport.equals(variant)) {
            listener.flowSockets(listener.flowSockets());
        }
        assertThat(listener.bareFlowsOn()).as("bare flow sockets").isEqualTo(variant.equals("io_uring"));
        return s;
    }

    private DatagramSocket client() throws IOException {
        DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        c.setSoTimeout(5000);
        resources.keep(c::close);
        return c;
    }

    private static void send(DatagramSocket c, Sluice s, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        c.send(new DatagramPacket(b, b.length, new InetSocketAddress(InetAddress.getLoopbackAddress(),
                Proxies.port(s, "front"))));
    }

    private static String receive(DatagramSocket c) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[70000], 70000);
        c.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    /**
     * Sends until answered, as UDP clients do: with a 300 ms idle timeout a pause of this JVM between the request
     * and its reply can end the flow first, and the reply is then dropped at the closed socket. Returns the reply
     * to this text, skipping a late duplicate of an earlier one.
     */
    private static String exchange(DatagramSocket c, Sluice s, String text) {
        String expected = "e:" + text;
        return await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ZERO).until(() -> {
            send(c, s, text);
            int timeout = c.getSoTimeout();
            c.setSoTimeout(1000);
            try {
                String reply;
                do {
                    reply = receive(c);
                } while (!reply.equals(expected));
                return reply;
            } catch (SocketTimeoutException e) {
                return null;
            } finally {
                c.setSoTimeout(timeout);
            }
        }, reply -> reply != null);
    }

    private static double metric(Sluice s, String name) {
        return Proxies.sample(s.metrics().scrape(), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring", "io_uring-channels"})
    void datagramsGoBothWaysOnOneFlowFromTheAddressTheClientSentTo(String transport) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        // An idle timeout no pause of this JVM reaches: client, Sluice and server share it, so a GC pause or a
        // starved thread of 300 ms (seen on a loaded 2-core machine) is idle time to the flow, which then ends
        // and is made again, as it should. The idle end has its own test below.
        Sluice s = sluiceOn(transport, "idle_timeout: 60s", echo.address());
        UdpListener listener = (UdpListener) s.listener("front");
        assertThat(listener.sockets()).isEqualTo(transport.equals("nio") ? 1 : 2);
        DatagramSocket c = client();
        for (int i = 0; i < 50; i++) {
            send(c, s, "hello " + i);
            DatagramPacket p = new DatagramPacket(new byte[100], 100);
            c.receive(p);
            assertThat(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8)).isEqualTo("e:hello " + i);
            assertThat(p.getSocketAddress()).isEqualTo(listener.localAddress());
        }
        assertThat(echo.peers).as("one flow, one server socket").hasSize(1);
        assertThat(metric(s, "sluice_udp_flows_active{listener=\"front\"}")).isEqualTo(1);
        assertThat(metric(s, "sluice_listener_connections_total{listener=\"front\"}")).isEqualTo(1);
        assertThat(metric(s, "sluice_listener_datagrams_received_total{listener=\"front\"}")).isEqualTo(50);
        assertThat(metric(s, "sluice_listener_datagrams_sent_total{listener=\"front\"}")).isEqualTo(50);
        String server = "{cluster=\"app\",server=\"" + echo.address() + "\"}";
        assertThat(metric(s, "sluice_server_datagrams_sent_total" + server)).isEqualTo(50);
        assertThat(metric(s, "sluice_server_datagrams_received_total" + server)).isEqualTo(50);
        assertThat(metric(s, "sluice_server_connections_active" + server)).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring", "io_uring-channels"})
    void anIdleFlowEndsAndTheNextDatagramStartsAnother(String transport) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluiceOn(transport, "idle_timeout: 300ms", echo.address());
        DatagramSocket c = client();
        assertThat(exchange(c, s, "first")).isEqualTo("e:first");
        String flows = "sluice_listener_connections_total{listener=\"front\"}";
        double made = metric(s, flows);
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, "sluice_udp_flows_active{listener=\"front\"}") == 0);
        String server = "{cluster=\"app\",server=\"" + echo.address() + "\"}";
        assertThat(metric(s, "sluice_server_connections_active" + server)).isZero();
        assertThat(exchange(c, s, "again")).isEqualTo("e:again");
        assertThat(metric(s, flows)).as("a new flow").isGreaterThan(made);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "io_uring", "io_uring-channels"})
    void largeDatagramsPassWhole(String transport) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluiceOn(transport, "max_datagram_size: 65535", echo.address());
        DatagramSocket c = client();
        String big = "x".repeat(60_000);
        send(c, s, big);
        assertThat(receive(c)).isEqualTo("e:" + big);
    }

    @Test
    void responsesPerRequestEndsTheFlowOnceEveryDatagramIsAnswered() throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 2));
        Sluice s = sluice("auto", "responses_per_request: 2", echo.address());
        DatagramSocket c = client();
        send(c, s, "q");
        assertThat(receive(c)).isEqualTo("e:q");
        assertThat(receive(c)).isEqualTo("e:q");
        await().atMost(Duration.ofSeconds(5)).until(() -> metric(s, "sluice_udp_flows_active{listener=\"front\"}") == 0);
    }

    @Test
    void maxFlowsDropsNewClientsAndCountsThem() throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluice("auto", "max_flows: 2", echo.address());
        DatagramSocket one = client();
        DatagramSocket two = client();
        DatagramSocket three = client();
        send(one, s, "1");
        assertThat(receive(one)).isEqualTo("e:1");
        send(two, s, "2");
        assertThat(receive(two)).isEqualTo("e:2");
        send(three, s, "3");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                metric(s, "sluice_listener_datagrams_dropped_total{listener=\"front\",reason=\"flow_limit\"}") == 1);
        assertThat(answered(three)).isFalse();
        // The clients with flows carry on.
        send(one, s, "1b");
        assertThat(receive(one)).isEqualTo("e:1b");
    }

    private boolean answered(DatagramSocket c) throws IOException {
        int timeout = c.getSoTimeout();
        c.setSoTimeout(200);
        try {
            receive(c);
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } finally {
            c.setSoTimeout(timeout);
        }
    }

    @Test
    void connectionsPerIpLimitsOneClientsFlows() throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = limited("connections_per_ip: 2", echo);
        DatagramSocket one = client();
        DatagramSocket two = client();
        DatagramSocket three = client();
        assertThat(exchange(one, s, "1")).isEqualTo("e:1");
        assertThat(exchange(two, s, "2")).isEqualTo("e:2");
        // A third source port of the same address is a third flow: over the limit, dropped and counted.
        send(three, s, "3");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                metric(s, "sluice_listener_datagrams_dropped_total{listener=\"front\",reason=\"limited\"}") == 1);
        assertThat(answered(three)).isFalse();
        assertThat(metric(s, "sluice_listener_limited_total{limit=\"connections_per_ip\",listener=\"front\"}"))
                .isEqualTo(1);
        assertThat(metric(s, "sluice_udp_flows_active{listener=\"front\"}")).isEqualTo(2);
        // The client's flows carry on.
        assertThat(exchange(one, s, "1b")).isEqualTo("e:1b");
    }

    private Sluice limited(String limits, UdpEcho echo) throws Exception {
        return limited(limits, "responses_per_request: 0", echo);
    }

    private Sluice limited(String limits, String udp, UdpEcho echo) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: front
                    bind: "127.0.0.1:0"
                    protocol: udp
                    cluster: app
                    limits: { %s }
                    udp: { %s }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(limits, udp, echo.address())));
    }

    @Test
    void aFlowThatEndsGivesItsCountBack() throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = limited("connections_per_ip: 1", "responses_per_request: 1", echo);
        // One flow at a time per client address, and each flow ends with its answer (responses_per_request: 1):
        // the next client port gets its flow only if the first gave its count back.
        DatagramSocket one = client();
        DatagramSocket two = client();
        assertThat(exchange(one, s, "1")).isEqualTo("e:1");
        assertThat(exchange(two, s, "2")).isEqualTo("e:2");
        await().atMost(Duration.ofSeconds(5)).until(() -> metric(s, "sluice_udp_flows_active{listener=\"front\"}") == 0);
    }

    @Test
    void requestsPerSecondPerIpTakesOneTokenPerDatagram() throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = limited("requests_per_second_per_ip: 1, burst: 3", echo);
        DatagramSocket c = client();
        for (int i = 0; i < 10; i++) {
            send(c, s, "r" + i);
        }
        // Each datagram took a token or was dropped: the burst of 3 (and one more a second) got through.
        String limited = "sluice_listener_limited_total{limit=\"requests_per_second_per_ip\",listener=\"front\"}";
        String dropped = "sluice_listener_datagrams_dropped_total{listener=\"front\",reason=\"limited\"}";
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(metric(s, limited) + metric(s, "sluice_listener_datagrams_sent_total{listener=\"front\"}"))
                    .isEqualTo(10);
            assertThat(metric(s, limited)).isPositive().isEqualTo(metric(s, dropped));
        });
    }

    @Test
    void aDisabledServersFlowsMoveOnTheirNextDatagram() throws Exception {
        UdpEcho a = resources.keep(new UdpEcho("a", 1));
        UdpEcho b = resources.keep(new UdpEcho("b", 1));
        Sluice s = sluice("auto", "", a.address(), b.address());
        DatagramSocket c = client();
        send(c, s, "x");
        String first = receive(c);
        String name = first.substring(0, 1);
        UdpEcho pinned = name.equals("a") ? a : b;
        for (int i = 0; i < 5; i++) {
            send(c, s, "x");
            assertThat(receive(c)).as("one flow, one server").isEqualTo(first);
        }
        var cluster = s.cluster("app");
        cluster.setHealthy(cluster.server(pinned.address()), false, "test");
        send(c, s, "y");
        assertThat(receive(c)).isEqualTo((name.equals("a") ? "b" : "a") + ":y");
    }

    @ParameterizedTest
    @ValueSource(strings = {"channels", "bare", "bare, out of direct memory"})
    void aFlowWhoseSocketCannotBeMadeUndoesItselfAndBlamesNoServer(String sockets) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        boolean bare = sockets.startsWith("bare");
        Sluice s = bare ? sluiceOn("io_uring", "", echo.address()) : sluice("auto", "", echo.address());
        UdpListener listener = (UdpListener) s.listener("front");
        Runnable restore;
        if (bare) {
            var made = listener.bareSockets();
            boolean memory = sockets.endsWith("memory");
            listener.bareSockets(server -> {
                if (memory) {
                    // What Netty's allocator throws for the receive buffer at the direct memory limit.
                    throw new OutOfMemoryError("Direct buffer memory");
                }
                throw new IOException("socket: Too many open files");
            });
            restore = () -> listener.bareSockets(made);
        } else {
            var made = listener.flowSockets();
            // What Netty does when socket() fails (EMFILE, or no direct memory for io_uring's headers): the factory
            // throws, and connect() returns a failed future on a placeholder channel of no event loop.
            listener.flowSockets(() -> {
                throw new ChannelException("socket: Too many open files");
            });
            restore = () -> listener.flowSockets(made);
        }
        DatagramSocket c = client();
        send(c, s, "lost");
        send(c, s, "lost too");
        await().atMost(Duration.ofSeconds(5)).until(() -> listener.udpStats().drops(UdpStats.Drop.SOCKET_ERROR) == 2);
        String server = "{cluster=\"app\",server=\"" + echo.address() + "\"}";
        assertThat(listener.udpStats().flows()).isZero();
        assertThat(listener.stats().active()).isZero();
        assertThat(metric(s, "sluice_server_connections_active" + server)).isZero();
        assertThat(metric(s, "sluice_server_connect_errors_total" + server)).as("the server is not to blame").isZero();
        assertThat(metric(s, "sluice_listener_datagrams_dropped_total{listener=\"front\",reason=\"socket_error\"}"))
                .isEqualTo(2);
        assertThat(s.cluster("app").server(echo.address()).healthy()).isTrue();
        // Sockets can be made again: the same client gets a flow.
        restore.run();
        send(c, s, "back");
        assertThat(receive(c)).isEqualTo("e:back");
        assertThat(listener.udpStats().flows()).isEqualTo(1);
        assertThat(listener.stats().active()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll", "io_uring", "io_uring-channels"})
    void aServerPortNothingListensOnEndsTheFlowAndCountsAConnectError(String transport) throws Exception {
        // The kernel answers a datagram to a closed port with ICMP port unreachable: the flow's next receive (or
        // send) on its connected socket fails with ECONNREFUSED, as a refused TCP connect would.
        String nobody;
        try (DatagramSocket unbound = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            nobody = "127.0.0.1:" + unbound.getLocalPort();
        }
        Sluice s = sluiceOn(transport, "idle_timeout: 60s", nobody);
        DatagramSocket c = client();
        String server = "{cluster=\"app\",server=\"" + nobody + "\"}";
        send(c, s, "anyone?");
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, "sluice_server_connect_errors_total" + server) == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, "sluice_udp_flows_active{listener=\"front\"}") == 0);
        assertThat(metric(s, "sluice_server_connections_active" + server)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> ((UdpListener) s.listener("front")).stats().active() == 0);
        // The next datagram tries again on a new flow.
        send(c, s, "still nobody?");
        await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, "sluice_server_connect_errors_total" + server) == 2);
    }

    @Test
    void manyShortFlowsOnBareSocketsLeaveNothingOpen() throws Exception {
        // A flow per query, as DNS clients make them (responses_per_request: 1): every socket, lease and count
        // is given back once its answer is out.
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluiceOn("io_uring", "responses_per_request: 1", echo.address());
        UdpListener listener = (UdpListener) s.listener("front");
        for (int i = 0; i < 200; i++) {
            DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress());
            try {
                c.setSoTimeout(5000);
                assertThat(exchange(c, s, "q" + i)).isEqualTo("e:q" + i);
            } finally {
                c.close();
            }
        }
        String server = "{cluster=\"app\",server=\"" + echo.address() + "\"}";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(listener.udpStats().flows()).isZero();
            assertThat(listener.stats().active()).isZero();
            assertThat(metric(s, "sluice_server_connections_active" + server)).isZero();
        });
        assertThat(metric(s, "sluice_listener_connections_total{listener=\"front\"}")).as("a flow per query")
                .isEqualTo(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "io_uring-channels", "epoll"})
    void disablingAServerClosesItsFlowsAtOnce(String transport) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluiceOn(transport, "idle_timeout: 60s", echo.address());
        DatagramSocket c = client();
        assertThat(exchange(c, s, "hi")).isEqualTo("e:hi");
        String server = "{cluster=\"app\",server=\"" + echo.address() + "\"}";
        assertThat(metric(s, "sluice_server_connections_active" + server)).isEqualTo(1);
        var cluster = s.cluster("app");
        cluster.setAdminState(cluster.server(echo.address()), io.sluice.cluster.Server.AdminState.DISABLED);
        // The flow ends with its socket, not at its next datagram or its idle timeout.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(metric(s, "sluice_udp_flows_active{listener=\"front\"}")).isZero();
            assertThat(metric(s, "sluice_server_connections_active" + server)).isZero();
            assertThat(((UdpListener) s.listener("front")).stats().active()).isZero();
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "io_uring-channels"})
    void aBurstOnOneFlowLosesNothing(String transport) throws Exception {
        UdpEcho echo = resources.keep(new UdpEcho("e", 1));
        Sluice s = sluiceOn(transport, "idle_timeout: 60s", echo.address());
        DatagramSocket c = client();
        c.setReceiveBufferSize(1 << 20);
        // The flow open first: while a channel's connect is under way a flow holds only 16 datagrams.
        assertThat(exchange(c, s, "open")).isEqualTo("e:open");
        for (int i = 0; i < 48; i++) {
            send(c, s, "b" + i);
        }
        java.util.Set<String> answers = new java.util.HashSet<>();
        for (int i = 0; i < 48; i++) {
            answers.add(receive(c));
        }
        assertThat(answers).hasSize(48).contains("e:b0", "e:b47");
        assertThat(metric(s, "sluice_udp_flows_active{listener=\"front\"}")).isEqualTo(1);
    }
}
