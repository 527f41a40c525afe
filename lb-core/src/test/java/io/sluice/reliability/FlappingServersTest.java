package io.sluice.reliability;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.netty.buffer.PooledByteBufAllocator;
import io.sluice.Sluice;
import io.sluice.testing.BackendProcess;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Servers that stall or flap under load: what it costs clients, and that nothing is left behind (buffers,
 * file descriptors, connections) once it is over. Paranoid leak detection runs with every test.
 */
class FlappingServersTest {
    @AutoClose
    final Resources resources = new Resources();

    /** One request on a new connection ({@code Connection: close}): its status line, or what went wrong. */
    private static String get(int port, String path) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15_000); // far beyond every timeout configured here: reaching it means a stuck request
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            int end = response.indexOf("\r\n");
            if (end < 0) {
                return "no response: " + response;
            }
            java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: *(\\d+)")
                    .matcher(response);
            if (length.find() && body(response).length() < Integer.parseInt(length.group(1))) {
                return response.substring(0, end) + " truncated";
            }
            return response.substring(0, end) + " " + body(response);
        } catch (java.net.SocketTimeoutException e) {
            return "stuck";
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static String body(String response) {
        int at = response.indexOf("\r\n\r\n");
        return at < 0 ? "" : response.substring(at + 4);
    }

    private static double metric(Sluice s, String name) throws Exception {
        double v = sample(Proxies.admin(s, "/metrics").body(), name);
        return Double.isNaN(v) ? 0 : v;
    }

    /**
     * A server that accepts and never answers costs exactly the requests sent to it, each a 504 after
     * {@code response_timeout}; the other server's requests all succeed.
     */
    @Test
    void aServerThatNeverAnswersCostsOnlyItsRequests() throws Exception {
        HttpServer a = BackendProcess.serveName("a", 0, 0, () -> { });
        resources.keep((AutoCloseable) () -> stop(a));
        ServerSocket silent = resources.keep(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        List<Socket> held = new CopyOnWriteArrayList<>();
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    held.add(silent.accept()); // reads nothing, answers nothing
                }
            } catch (IOException closed) {
                held.forEach(FlappingServersTest::closeQuietly);
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { response_timeout: 500ms }
                clusters:
                  - name: app
                    algorithm: round_robin
                    servers: [ { address: "127.0.0.1:%d" }, { address: "127.0.0.1:%d" } ]
                """.formatted(a.getAddress().getPort(), silent.getLocalPort())));
        LoadLoop load = new LoadLoop(4, id -> () -> get(Proxies.port(s, "web"), "/x"));
        try (load) {
            await().atMost(Duration.ofSeconds(60)).until(() -> load.count("HTTP/1.1 200 OK a") >= 100
                    && load.total() - load.count("HTTP/1.1 200 OK a") >= 10);
        }
        long ok = load.count("HTTP/1.1 200 OK a");
        long failed = load.total() - ok;
        assertThat(load.outcomes.keySet()).allMatch(o -> o.equals("HTTP/1.1 200 OK a")
                || o.startsWith("HTTP/1.1 504 "), "only timeouts fail: " + load.outcomes.keySet());
        String m = Proxies.admin(s, "/metrics").body();
        assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"timeout\"}")).isEqualTo(failed);
        assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                + "protocol=\"http1\",route=\"default\"}")).isEqualTo(ok);
    }

    /**
     * Servers that die in the middle of some responses (here: every {@code /cut}, after 10 of 100 000 bytes) cost
     * exactly those requests: each client sees its response cut short and its connection closed, and every other
     * request, on the same servers at the same time, is answered in full.
     */
    @Test
    void aServerDyingMidResponseCostsOnlyThatRequest() throws Exception {
        List<HttpServer> servers = new java.util.ArrayList<>();
        for (String name : List.of("a", "b")) {
            HttpServer h = BackendProcess.serveName(name, 0, 0, () -> { });
            h.createContext("/cut", exchange -> {
                exchange.sendResponseHeaders(200, 100_000);
                exchange.getResponseBody().write(new byte[10]);
                exchange.getResponseBody().flush();
                exchange.close(); // short of its Content-Length: the server's connection closes mid-body
            });
            servers.add(h);
            resources.keep((AutoCloseable) () -> stop(h));
        }
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "127.0.0.1:%d" }, { address: "127.0.0.1:%d" } ]
                """.formatted(servers.get(0).getAddress().getPort(), servers.get(1).getAddress().getPort())));
        int port = Proxies.port(s, "web");
        LoadLoop load = new LoadLoop(5, id -> () -> get(port, id == 0 ? "/cut" : "/x"));
        try (load) {
            await().atMost(Duration.ofSeconds(60)).until(() -> load.count("HTTP/1.1 200 OK truncated") >= 50
                    && load.count("HTTP/1.1 200 OK a") + load.count("HTTP/1.1 200 OK b") >= 400);
        }
        assertThat(load.outcomes.keySet()).as("outcomes").containsOnly("HTTP/1.1 200 OK truncated",
                "HTTP/1.1 200 OK a", "HTTP/1.1 200 OK b");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(metric(s,
                "sluice_http_errors_total{listener=\"web\",reason=\"broken_response\"}"))
                .isEqualTo(load.count("HTTP/1.1 200 OK truncated")));
    }

    /**
     * Every server flaps (down, then up, one second each, out of step) under load for 30 s. Clients get
     * answers or Sluice's errors, never a hung request; afterwards no connection is left open, and file
     * descriptors and direct memory come back to where they were.
     */
    @Test
    void flappingServersLeaveNothingBehind() throws Exception {
        int[] ports = {Proxies.freePort(), Proxies.freePort(), Proxies.freePort()};
        HttpServer[] servers = new HttpServer[3];
        for (int i = 0; i < 3; i++) {
            servers[i] = BackendProcess.serveName("s" + i, ports[i], 0, () -> { });
        }
        resources.keep((AutoCloseable) () -> {
            for (HttpServer h : servers) {
                if (h != null) {
                    stop(h);
                }
            }
        });
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { response_timeout: 2s }
                clusters:
                  - name: app
                    connect_timeout: 1s
                    health_check: { type: http, path: /health, interval: 300ms, timeout: 300ms, fall: 1, rise: 1 }
                    outlier_detection: { consecutive_failures: 3, base_ejection_time: 1s }
                    pool: { max_idle_time: 500ms }
                    servers: [ { address: "127.0.0.1:%d" }, { address: "127.0.0.1:%d" }, { address: "127.0.0.1:%d" } ]
                """.formatted(ports[0], ports[1], ports[2])));
        int port = Proxies.port(s, "web");
        // Warm up what a first request allocates once (thread caches, arenas), then take the baseline.
        for (int i = 0; i < 20; i++) {
            assertThat(get(port, "/warm")).startsWith("HTTP/1.1 200");
        }
        long fdsBefore = openFiles();
        long directBefore = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();

        LoadLoop load = new LoadLoop(4, id -> () -> get(port, "/x"));
        long flapUntil = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int round = 0;
        try (load) {
            while (System.nanoTime() < flapUntil) {
                int i = round % 3;
                // Each server is down one second in three, in turn, and in every other round two are down at once.
                stop(servers[i]);
                if (round % 2 == 1) {
                    stop(servers[(i + 1) % 3]);
                }
                Thread.sleep(1000); // the fault's own rhythm (down for a second), not a wait for a result
                servers[i] = BackendProcess.serveName("s" + i, ports[i], 0, () -> { });
                if (round % 2 == 1) {
                    int j = (i + 1) % 3;
                    servers[j] = BackendProcess.serveName("s" + j, ports[j], 0, () -> { });
                }
                round++;
            }
        }
        System.out.println("flapping: " + round + " rounds, outcomes " + load.outcomes);
        assertThat(load.count("stuck")).as("requests that never ended").isZero();
        assertThat(load.outcomes.keySet()).allMatch(o -> o.startsWith("HTTP/1.1 "), "every request got a response: "
                + load.outcomes.keySet());
        assertThat(load.outcomes.keySet().stream().filter(o -> o.startsWith("HTTP/1.1 200")).count()).isPositive();

        // All servers up again: nothing left open, nothing held.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_listener_connections_active{listener=\"web\"}")).isZero();
            for (int p : ports) {
                String labels = "{cluster=\"app\",server=\"127.0.0.1:" + p + "\"}";
                assertThat(sample(m, "sluice_server_requests_active" + labels)).isZero();
                assertThat(sample(m, "sluice_http_pool_connections_active" + labels)).isZero();
                assertThat(sample(m, "sluice_http_pool_connections_idle" + labels)).isZero();
            }
        });
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(openFiles()).as("open file descriptors (before: %d)", fdsBefore)
                        .isLessThanOrEqualTo(fdsBefore + 8));
        long directAfter = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        System.out.printf("flapping: fds %d -> %d, direct memory %d -> %d KiB%n", fdsBefore, openFiles(),
                directBefore / 1024, directAfter / 1024);
        // The pooled allocator keeps chunks it allocated for reuse: bounded, not back to the byte.
        assertThat(directAfter - directBefore).as("direct memory growth").isLessThan(32L << 20);
    }

    private static long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static void stop(HttpServer h) {
        h.stop(0);
        ((ExecutorService) h.getExecutor()).shutdownNow();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

}
