package io.sluice.l4;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code servers[].max_connections} on a TCP listener: relayed connections beyond it wait in the cluster's
 * queue (connected in order as connections end) or are closed when the queue is full or its timeout passes.
 */
class ServerConnectionLimitTest {

    /**
     * Whether the connection ended: a FIN, or a reset where the proxy closed a socket with the client's bytes
     * still unread in it (the channel relay reads nothing before its server is connected).
     */
    private static boolean ended(Socket s) throws java.io.IOException {
        s.setSoTimeout(10_000); // a bound for a hang (a connection never closed), not a timing assertion
        try {
            return s.getInputStream().read() == -1;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }

    private static Sluice proxy(String server, String queue, int workers) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: %d }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app }
                clusters:
                  - name: app
                    queue: %s
                    servers: [ { address: "%s", max_connections: 4 } ]
                """.formatted(workers, queue, server));
    }

    @Test
    void aServerLimitedToFourNeverHoldsMoreThanFourOf64ConcurrentConnections() throws Exception {
        AtomicInteger now = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        // Echo that counts the connections it serves at once, from accept to its own close.
        TestBackend.Behaviour counting = (sock, b) -> {
            peak.accumulateAndGet(now.incrementAndGet(), Math::max);
            try {
                InputStream in = sock.getInputStream();
                OutputStream out = sock.getOutputStream();
                byte[] buf = new byte[1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } finally {
                now.decrementAndGet();
            }
        };
        int clients = 64;
        try (TestBackend a = TestBackend.start("a", counting);
             Sluice s = proxy(a.address(), "{ max: 100, timeout: 60s }", 2)) {
            int port = Proxies.port(s, "front");
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int client = c;
                    done.add(pool.submit(() -> {
                        try (Socket sock = Proxies.connect(port)) {
                            for (int i = 0; i < 3; i++) {
                                Proxies.roundTrip(sock, "client " + client + " line " + i + "\n");
                            }
                            sock.shutdownOutput();
                            assertThat(sock.getInputStream().read()).isEqualTo(-1);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(); // every client got its echo: nothing lost
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(a.accepted()).isEqualTo(clients);
            assertThat(peak.get()).isLessThanOrEqualTo(4);
            io.sluice.cluster.Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.slotsInUse() == 0);
            assertThat(s.cluster("app").queue().length()).isZero();
        }
    }

    @Test
    void aConnectionIsClosedWhenTheQueueIsFullOrItsTimeoutPasses() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.hold());
             Sluice s = proxy(a.address(), "{ max: 1, timeout: 1s }", 1)) {
            int port = Proxies.port(s, "front");
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    held.add(Proxies.connect(port));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 4);
                try (Socket waits = Proxies.connect(port)) {
                    // Bytes sent while waiting are held, with nothing in flight on the connection: the timeout must
                    // still end it whole (its count, its descriptors), not only close the client's side.
                    waits.getOutputStream().write("early".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    waits.getOutputStream().flush();
                    await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").queue().length() == 1);
                    try (Socket refused = Proxies.connect(port)) {
                        assertThat(refused.getInputStream().read()).isEqualTo(-1); // queue full: closed at once
                    }
                    assertThat(ended(waits)).isTrue(); // closed after the timeout
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("front").stats().active() == 4);
                String m = Proxies.admin(s, "/metrics").body();
                assertThat(sample(m, "sluice_cluster_queue_rejected_total{cluster=\"app\"}")).isEqualTo(1);
                assertThat(sample(m, "sluice_cluster_queue_timeouts_total{cluster=\"app\"}")).isEqualTo(1);
                assertThat(a.accepted()).isEqualTo(4);

                // A connection that ends frees its slot for the next one in line.
                held.remove(0).close();
                await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 3);
                try (Socket next = Proxies.connect(port)) {
                    await().atMost(Duration.ofSeconds(10)).until(() -> a.accepted() == 5);
                }
            } finally {
                for (Socket sock : held) {
                    sock.close();
                }
            }
        }
    }
}
