package io.sluice.l4;

import static io.sluice.testing.Proxies.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code splice: true} listener option beyond what the shared tests show (L4ProxyTest, LargeTransferTest,
 * BackpressureTest, BackendResetTest and HalfCloseLargeResponseTest run in splice mode too): bytes read before
 * splicing began, the idle timer, a reset after a FIN, shutdown and drain, pipes and descriptors.
 */
class SpliceTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeEach
    void needsEpoll() {
        Transports.assumeAvailable(Transports.SPLICE);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private TestBackend backend(TestBackend.Behaviour b) throws IOException {
        TestBackend backend = TestBackend.start("a", b);
        resources.add(backend);
        return backend;
    }

    private Sluice sluice(String listenerOptions, TestBackend backend) throws Exception {
        Sluice s = Proxies.startTcp("transport: epoll", ", splice: true" + listenerOptions, backend.address());
        resources.add(s);
        return s;
    }

    /**
     * A client that sends and half-closes at once, and a server that greets and half-closes at once: the epoll
     * transport reads both before the relay takes the sockets over, and those bytes must still arrive first.
     */
    @Test
    void bytesReadBeforeSplicingArriveInOrder() throws Exception {
        Queue<String> backendGot = new ConcurrentLinkedQueue<>();
        TestBackend a = backend((socket, b) -> {
            OutputStream out = socket.getOutputStream();
            out.write("220 hello\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            socket.shutdownOutput();
            backendGot.add(new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
        });
        Sluice s = sluice("", a);
        int port = port(s, "front");
        int rounds = 30;
        for (int i = 0; i < rounds; i++) {
            try (Socket client = Proxies.connect(port)) {
                OutputStream out = client.getOutputStream();
                out.write("QUIT\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                client.shutdownOutput();
                assertThat(Proxies.readAll(client.getInputStream())).as("round %d", i).isEqualTo("220 hello\n");
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> backendGot.size() == rounds);
        assertThat(backendGot).containsOnly("QUIT\n");
        // The point of the test: some of those relays did start with bytes read before the hand-over.
        assertThat(splicer(s).relaysStartedWithHeldBytes()).isPositive();
        Server server = s.cluster("app").servers().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0);
        assertThat(server.bytesSent().sum()).isEqualTo(rounds * 5);
        assertThat(server.bytesReceived().sum()).isEqualTo(rounds * 10);
    }

    @Test
    void trafficKeepsTheConnectionOpen() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        Sluice s = sluice(", idle_timeout: 2s", a);

        try (Socket c = Proxies.connect(port(s, "front"))) {
            // 3.6 s of traffic, a message every 300 ms: the connection outlives its 2 s idle timeout.
            for (int i = 0; i < 12; i++) {
                Proxies.roundTrip(c, "tick " + i);
                Thread.sleep(300); // the pace of the traffic under test, not a wait for a condition
            }
            // Then silence: the idle timeout ends it.
            assertThat(c.getInputStream().read()).isEqualTo(-1);
        }
    }

    /** A reset after the client's FIN: nothing is read from or written to the client any more, yet it ends. */
    @Test
    void resetAfterHalfCloseEndsTheRelay() throws Exception {
        CountDownLatch gotFin = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        TestBackend a = backend((socket, b) -> {
            socket.getInputStream().readAllBytes();
            gotFin.countDown();
            // Silent after the client's FIN, and open until the test ends.
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        resources.add(release::countDown);
        Sluice s = sluice("", a);
        Server server = s.cluster("app").servers().get(0);
        try (Socket c = Proxies.connect(port(s, "front"))) {
            c.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            // The server saw the FIN, so the relay has finished that direction.
            assertThat(gotFin.await(10, TimeUnit.SECONDS)).isTrue();
            c.setSoLinger(true, 0); // close with a reset
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0
                && s.listener("front").stats().active() == 0);
    }

    @Test
    void shutdownClosesSplicedConnections() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        Sluice s = Proxies.startTcp("transport: epoll", ", splice: true", a.address());
        try (Socket c = Proxies.connect(port(s, "front"))) {
            Proxies.roundTrip(c, "ping");
            s.close();
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 0);
        }
    }

    @Test
    void drainLetsSplicedConnectionsFinish() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        Sluice s = Proxies.startTcp("transport: epoll", ", splice: true", a.address());
        resources.add(s);
        try (Socket c = Proxies.connect(port(s, "front"))) {
            Proxies.roundTrip(c, "before");
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> s.shutdown(Duration.ofSeconds(30)));
            await().atMost(Duration.ofSeconds(10)).until(() -> !s.listener("front").bound());
            // Draining: the open connection still works, and ending it lets the shutdown finish.
            Proxies.roundTrip(c, "while draining");
            assertThat(shutdown).isNotDone();
            c.shutdownOutput();
            assertThat(c.getInputStream().read()).isEqualTo(-1);
            shutdown.get(20, TimeUnit.SECONDS);
        }
    }

    /**
     * Many connections at once, then none: every socket the relays had is closed, and pipes were reused rather
     * than opened per connection (each of the two event loops keeps at most PipePool.MAX_IDLE, two descriptors
     * each; without a pool this run leaves or churns 800).
     */
    @Test
    void manyConnectionsLeaveNoDescriptorsBehind() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        Sluice s = Proxies.startTcp("transport: epoll, worker_threads: 2", ", splice: true", a.address());
        resources.add(s);
        int port = port(s, "front");
        long pipesBefore = openFds("pipe:");
        long socketsBefore = openFds("socket:");
        ExecutorService clients = Executors.newFixedThreadPool(16);
        resources.add(clients::shutdownNow);
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String text = "connection " + i + " ".repeat(i * 37);
            done.add(CompletableFuture.runAsync(() -> {
                try (Socket c = Proxies.connect(port)) {
                    Proxies.roundTrip(c, text);
                    c.shutdownOutput();
                    assertThat(c.getInputStream().read()).isEqualTo(-1);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            }, clients));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join();

        Server server = s.cluster("app").servers().get(0);
        await().atMost(Duration.ofSeconds(10)).until(() -> server.activeConnections() == 0
                && s.listener("front").stats().active() == 0);
        assertThat(s.listener("front").stats().total()).isEqualTo(200);
        // Pipes are reused: far fewer opened than two per connection, and no more kept than the pools hold.
        assertThat(splicer(s).pipesCreated()).isPositive().isLessThan(200);
        assertThat(openFds("pipe:")).isLessThanOrEqualTo(pipesBefore + 2L * 2 * PipePool.MAX_IDLE);
        await().atMost(Duration.ofSeconds(10)).until(() -> openFds("socket:") < socketsBefore + 8);
    }

    /** The pools' idle pipes go with the event loops: a stopped Sluice leaves no pipe open. */
    @Test
    void shutdownClosesPooledPipes() throws Exception {
        TestBackend a = backend(TestBackend.echo());
        long pipesBefore = openFds("pipe:");
        Sluice s = Proxies.startTcp("transport: epoll", ", splice: true", a.address());
        try (Socket c = Proxies.connect(port(s, "front"))) {
            Proxies.roundTrip(c, "ping");
        }
        assertThat(splicer(s).pipesCreated()).isPositive();
        s.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> openFds("pipe:") <= pipesBefore);
    }

    /** A direction takes a pipe only when it has bytes to move: idle connections hold none. */
    @Test
    void idleConnectionsHoldNoPipes() throws Exception {
        TestBackend a = backend(TestBackend.hold());
        Sluice s = sluice("", a);
        int port = port(s, "front");
        long pipesBefore = openFds("pipe:");
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                idle.add(Proxies.connect(port));
            }
            // Every relay registered and idle.
            await().atMost(Duration.ofSeconds(10)).until(() -> splicer(s).liveRelays() == 50);
            assertThat(openFds("pipe:")).isLessThan(pipesBefore + 8);
        } finally {
            for (Socket c : idle) {
                c.close();
            }
        }
        // The clients' FINs end every relay; a count of this listener's alone comes back to exactly zero.
        await().atMost(Duration.ofSeconds(10)).until(() -> splicer(s).liveRelays() == 0);
    }

    /** The listener's own counts: other tests' relays in this JVM do not show in them. */
    private static Splicer splicer(Sluice s) {
        return ((TcpListener) s.listener("front")).splicer();
    }

    /** Open descriptors of this process whose link starts with {@code kind}, e.g. "pipe:" or "socket:". */
    private static long openFds(String kind) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith(kind);
                } catch (IOException e) {
                    return false; // closed while listing
                }
            }).count();
        }
    }
}
