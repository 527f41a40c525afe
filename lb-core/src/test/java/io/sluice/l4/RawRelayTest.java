package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What is particular to the raw io_uring relay (the L4 tests run on it as the default on io_uring, and on the
 * channel relay as {@link Transports#CHANNELS}): which listeners get it, that a stop with connections open leaves
 * no descriptor behind, IPv6 on both sides, and that a listener it serves still hands the connections it cannot
 * carry to Netty's pipeline after a reload makes its cluster send a PROXY header.
 */
class RawRelayTest {
    @BeforeEach
    void ioUring() {
        Transports.assumeAvailable("io_uring");
    }

    @Test
    void plainTcpListenersOnIoUringRelayRawUnlessConfiguredOtherwise() throws Exception {
        try (TestBackend b = TestBackend.start("b", TestBackend.sayName());
             Sluice raw = Proxies.startTcp("transport: io_uring", b.address());
             Sluice channels = Proxies.startTcp("transport: io_uring, tcp_relay: channels", b.address())) {
            assertThat(((TcpListener) raw.listener("front")).rawRelay()).isTrue();
            assertThat(((TcpListener) channels.listener("front")).rawRelay()).isFalse();
            assertThat(Proxies.exchange(Proxies.port(raw, "front")).trim()).isEqualTo("b");
            assertThat(Proxies.exchange(Proxies.port(channels, "front")).trim()).isEqualTo("b");
        }
        if (Transports.isAvailableHere("epoll")) {
            try (TestBackend b = TestBackend.start("b", TestBackend.sayName());
                 Sluice epoll = Proxies.startTcp("transport: epoll", b.address())) {
                assertThat(((TcpListener) epoll.listener("front")).rawRelay()).isFalse();
            }
        }
    }

    @Test
    void connectionsAreSpreadOverTheEventLoops() throws Exception {
        try (TestBackend b = TestBackend.start("b", TestBackend.echo());
             Sluice s = Proxies.startTcp("transport: io_uring, worker_threads: 2", b.address())) {
            int port = Proxies.port(s, "front");
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 40; i++) {
                    Socket c = Proxies.connect(port);
                    clients.add(c);
                    roundTrip(c, "spread " + i);
                }
                // 40 connections hashed over two sockets: all on one would be a 1 in 2^39 chance.
                List<Integer> perLoop = ((TcpListener) s.listener("front")).connections().countsByLoop();
                assertThat(perLoop).hasSize(2).allMatch(n -> n > 0);
            } finally {
                for (Socket c : clients) {
                    c.close();
                }
            }
        }
    }

    @Test
    void stoppingWithRelayedConnectionsOpenClosesEverySocket() throws Exception {
        // A first start and stop loads what the process keeps open for good (jars, the native libraries).
        try (TestBackend b = TestBackend.start("b", TestBackend.echo());
             Sluice warm = Proxies.startTcp("transport: io_uring", b.address())) {
            assertThat(echo(Proxies.port(warm, "front"), "warm")).isEqualTo("warm");
        }
        try (TestBackend b = TestBackend.start("b", TestBackend.echo())) {
            long before = openDescriptors();
            List<Socket> clients = new ArrayList<>();
            Sluice s = Proxies.startTcp("transport: io_uring", b.address());
            Server server = s.cluster("app").servers().get(0);
            try {
                int port = Proxies.port(s, "front");
                for (int i = 0; i < 20; i++) {
                    Socket c = Proxies.connect(port);
                    clients.add(c);
                    roundTrip(c, "hello " + i);
                }
                assertThat(server.activeConnections()).isEqualTo(20);
            } finally {
                s.close();
            }
            for (Socket c : clients) {
                c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
                assertThat(c.getInputStream().read()).as("the proxy closed its side").isEqualTo(-1);
                c.close();
            }
            assertThat(server.activeConnections()).isZero();
            // The backend closes its ends as it sees the proxy's go; only then is the count back.
            await().atMost(Duration.ofSeconds(10)).until(() -> openDescriptors() <= before);
        }
    }

    /**
     * A finished connection's two sockets are closed: 200 connections, each closed by its client after a round
     * trip, leave no descriptor behind in the proxy (nor in the echo server, which closes its end when the proxy's
     * goes).
     */
    @Test
    void finishedConnectionsLeaveNoDescriptorBehind() throws Exception {
        try (TestBackend b = TestBackend.start("b", TestBackend.echo());
             Sluice s = Proxies.startTcp("transport: io_uring", b.address())) {
            int port = Proxies.port(s, "front");
            assertThat(echo(port, "warm")).isEqualTo("warm");
            Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0);
            long before = openDescriptors();
            for (int i = 0; i < 200; i++) {
                try (Socket c = Proxies.connect(port)) {
                    roundTrip(c, "hello " + i);
                }
            }
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> server.activeConnections() == 0 && openDescriptors() <= before);
        }
    }

    @Test
    void relaysBetweenIpv6ClientsAndIpv6Servers() throws Exception {
        InetAddress loopback6 = InetAddress.getByName("::1");
        try (ServerSocket echo = new ServerSocket()) {
            echo.bind(new InetSocketAddress(loopback6, 0));
            Thread t = new Thread(() -> echoAll(echo), "ipv6-echo");
            t.setDaemon(true);
            t.start();
            try (Sluice s = Proxies.start("""
                    runtime: { transport: io_uring }
                    admin: { enabled: false }
                    listeners:
                      - { name: front, bind: "[::1]:0", cluster: app }
                    clusters:
                      - name: app
                        servers: [ { address: "[::1]:%d" } ]
                    """.formatted(echo.getLocalPort()))) {
                assertThat(((TcpListener) s.listener("front")).rawRelay()).isTrue();
                int port = Proxies.port(s, "front");
                try (Socket c = new Socket(loopback6, port)) {
                    roundTrip(c, "over IPv6");
                }
                Server server = s.cluster("app").servers().get(0);
                assertThat(server.bytesSent().sum()).isEqualTo("over IPv6".length());
            }
        }
    }

    @Test
    void aReloadThatMakesTheClusterSendProxyHeadersMovesNewConnectionsToChannels() throws Exception {
        try (TestBackend b = TestBackend.start("b", TestBackend.echo())) {
            Path file = Files.createTempFile("sluice", ".yaml");
            String plain = """
                    runtime: { transport: io_uring }
                    admin: { enabled: false }
                    listeners:
                      - { name: front, bind: "127.0.0.1:0", cluster: app }
                    clusters:
                      - name: app
                        servers: [ { address: "%s" } ]
                    """.formatted(b.address());
            try (Sluice s = Proxies.startFromFile(file, plain)) {
                int port = Proxies.port(s, "front");
                Socket before = Proxies.connect(port);
                roundTrip(before, "plain");
                Proxies.reload(s, file, plain.replace("servers:", "send_proxy_protocol: v1\n    servers:"));
                // The connection open across the reload stays on the raw relay and goes on as it was.
                roundTrip(before, "still plain");
                before.close();
                // A new one goes through the channels, which write the header first: the echo returns it.
                try (Socket after = Proxies.connect(port)) {
                    OutputStream out = after.getOutputStream();
                    out.write("x\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    after.setSoTimeout(10_000);
                    String line = readLine(after.getInputStream());
                    assertThat(line).startsWith("PROXY TCP4 127.0.0.1 127.0.0.1 ");
                }
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    /**
     * The server resets while the client is not reading: what the relay already took from the server is on its
     * way to the client, and a send to the reset server then fails. The bytes on their way still arrive (the
     * relay drains that direction before it closes the client), so the client gets every byte the server's
     * counter says was relayed.
     */
    /**
     * A stream moves to splice(2) in both directions once a read fills a big buffer: 8 MiB echoed arrive whole and
     * in order through a pipe, small exchanges on the same connection still go through, and the FIN goes on.
     */
    @Test
    void streamsAreSplicedAndArriveWhole() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(UringConnection.SPLICE, "splice(2) needs Netty's epoll library");
        long pipesBefore = RelayPipes.created();
        try (TestBackend b = TestBackend.start("b", TestBackend.echo());
             Sluice s = Proxies.startTcp("transport: io_uring", b.address());
             Socket c = Proxies.connect(Proxies.port(s, "front"))) {
            c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
            byte[] data = new byte[8 << 20];
            new java.util.Random(7).nextBytes(data);
            Thread writer = new Thread(() -> {
                try {
                    c.getOutputStream().write(data);
                    c.getOutputStream().flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            byte[] back = c.getInputStream().readNBytes(data.length);
            writer.join(10_000);
            assertThat(java.util.Arrays.equals(back, data)).as("the echo is the bytes sent").isTrue();
            assertThat(RelayPipes.created()).as("pipes opened").isGreaterThan(pipesBefore);
            roundTrip(c, "small after the stream");
            c.shutdownOutput();
            assertThat(c.getInputStream().read()).as("the echo server's FIN, passed on").isEqualTo(-1);
            Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.bytesSent().sum() == data.length + 22
                    && server.bytesReceived().sum() == data.length + 22);
        }
    }

    private static void roundTrip(Socket c, String text) throws IOException {
        assertThat(echo(c, text)).isEqualTo(text);
    }

    private static String echo(int port, String text) throws IOException {
        try (Socket c = Proxies.connect(port)) {
            return echo(c, text);
        }
    }

    private static String echo(Socket c, String text) throws IOException {
        c.setSoTimeout(10_000);
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        c.getOutputStream().write(bytes);
        c.getOutputStream().flush();
        byte[] got = c.getInputStream().readNBytes(bytes.length);
        return new String(got, StandardCharsets.US_ASCII);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int ch;
        while ((ch = in.read()) >= 0 && ch != '\n') {
            sb.append((char) ch);
        }
        return sb.toString().trim();
    }

    private static void echoAll(ServerSocket server) {
        try {
            while (true) {
                Socket s = server.accept();
                Thread t = new Thread(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException ignored) {
                        // the test is done with it
                    }
                });
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException closed) {
            // the test closed the server socket
        }
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
