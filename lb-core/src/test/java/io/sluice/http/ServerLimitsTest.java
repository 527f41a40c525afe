package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code servers[].max_connections} on HTTP listeners (requests in flight), the cluster's queue, and the pool's
 * {@code max_waiting}: what a client sees and what {@code /metrics} counts. The backends count their own
 * concurrency; nothing here trusts Sluice's counters for the limit itself.
 */
class ServerLimitsTest {

    /** A backend that records how many requests it serves at once, and the most it ever saw. */
    static final class ConcurrencyProbe {
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();
        final AtomicInteger served = new AtomicInteger();

        HttpBackend.Handler handler() {
            return (req, out, sock) -> {
                req.readBody();
                peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(2); // the server's work: long enough for requests to overlap
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                now.decrementAndGet();
                served.incrementAndGet();
                // One write: a head and body written apart meet Nagle and delayed ACKs (40 ms a response).
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                        + req.uri().length() + "\r\n\r\n" + req.uri());
            };
        }
    }

    private static Sluice proxy(String cluster, int workers) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: %d }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                %s
                """.formatted(workers, cluster.indent(4)));
    }

    /** Sends a request the backend holds (see {@link HttpBackend#holding}) and waits until the backend has it. */
    private static void holdSlow(RawHttp slow, HttpBackend b) throws Exception {
        slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
        await().atMost(Duration.ofSeconds(10)).until(() -> b.requests.size() == 1);
    }

    @Test
    void aServerLimitedToFourNeverSeesMoreThanFourOf64ConcurrentClientsAndNothingIsLost() throws Exception {
        ConcurrencyProbe probe = new ConcurrencyProbe();
        int clients = 64;
        int each = 10;
        try (HttpBackend b = new HttpBackend("a", probe.handler());
             Sluice s = proxy("""
                     queue: { max: 1000, timeout: 60s }
                     servers: [ { address: "%s", max_connections: 4 } ]
                     """.formatted(b.address()), 2)) {
            int port = Proxies.port(s, "web");
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int c = 0; c < clients; c++) {
                    int client = c;
                    results.add(pool.submit(() -> {
                        int ok = 0;
                        try (RawHttp h = new RawHttp(port)) {
                            for (int i = 0; i < each; i++) {
                                RawHttp.Response r = h.get("/c" + client + "/" + i);
                                if (r.status() == 200 && r.text().equals("/c" + client + "/" + i)) {
                                    ok++;
                                }
                            }
                        }
                        return ok;
                    }));
                }
                int ok = 0;
                for (Future<Integer> f : results) {
                    ok += f.get();
                }
                assertThat(ok).isEqualTo(clients * each);
            } finally {
                pool.shutdownNow();
            }
            assertThat(probe.served.get()).isEqualTo(clients * each);
            assertThat(probe.peak.get()).isLessThanOrEqualTo(4);
            assertThat(probe.peak.get()).as("the limit was reached, so the queue was used").isEqualTo(4);
            io.sluice.cluster.Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.slotsInUse() == 0);
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_cluster_queue_length{cluster=\"app\"}")).isEqualTo(0);
            assertThat(sample(m, "sluice_cluster_queue_timeouts_total{cluster=\"app\"}")).isEqualTo(0);
            assertThat(sample(m, "sluice_server_queue_length{cluster=\"app\",server=\"" + b.address() + "\"}"))
                    .isEqualTo(0);
        }
    }

    @Test
    void aFullQueueIsAnsweredAtOnceWith503AndCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release));
             Sluice s = proxy("""
                     queue: { max: 1, timeout: 60s }
                     servers: [ { address: "%s", max_connections: 1 } ]
                     """.formatted(b.address()), 1);
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp queued = new RawHttp(Proxies.port(s, "web"));
             RawHttp refused = new RawHttp(Proxies.port(s, "web"))) {
            holdSlow(slow, b);
            queued.send("GET /queued HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").queue().length() == 1);
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_cluster_queue_length{cluster=\"app\"}")).isEqualTo(1);
            assertThat(Proxies.admin(s, "/admin/clusters/app").body())
                    .contains("\"queue\":{\"length\":1,\"max\":1,").contains("\"max_connections\":1");

            RawHttp.Response r = refused.get("/refused");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text()).contains("queue is full");
            assertThat(b.requests).hasSize(1);

            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(queued.read().text()).isEqualTo("/queued");
            m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_cluster_queue_rejected_total{cluster=\"app\"}")).isEqualTo(1);
            assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"queue_full\"}")).isEqualTo(1);
            assertThat(sample(m, "sluice_cluster_queue_length{cluster=\"app\"}")).isEqualTo(0);
        }
    }

    @Test
    void waitingLongerThanTheQueueTimeoutIsAnswered503AndCounted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release));
             Sluice s = proxy("""
                     queue: { max: 10, timeout: 200ms }
                     servers: [ { address: "%s", max_connections: 1 } ]
                     """.formatted(b.address()), 1);
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp waiting = new RawHttp(Proxies.port(s, "web"))) {
            holdSlow(slow, b);
            RawHttp.Response r = waiting.get("/waits");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text()).contains("no server came free in time");
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_cluster_queue_timeouts_total{cluster=\"app\"}")).isEqualTo(1);
            assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"queue_timeout\"}"))
                    .isEqualTo(1);
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(waiting.get("/now").text()).isEqualTo("/now");
        }
    }

    @Test
    void aFullServerIsSkippedWhileAnotherHasRoom() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend a = new HttpBackend("a", HttpBackend.holding("/slow", release));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = proxy("""
                     algorithm: round_robin
                     servers: [ { address: "%s", max_connections: 1 }, { address: "%s" } ]
                     """.formatted(a.address(), b.address()), 1);
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            // Round robin sends the first request to a; it holds it, so a is full from then on.
            slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            for (int i = 0; i < 6; i++) {
                assertThat(c.get("/x").text()).isEqualTo("b GET /x");
            }
            assertThat(s.cluster("app").queue().length()).isZero();
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
        }
    }

    @Test
    void aStickySessionWaitsForItsFullServerInsteadOfMoving() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend a = new HttpBackend("a", HttpBackend.holding("/slow", release));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = proxy("""
                     algorithm: round_robin
                     sticky_cookie: { name: lb }
                     queue: { max: 10, timeout: 60s }
                     servers: [ { address: "%s", max_connections: 1 }, { address: "%s" } ]
                     """.formatted(a.address(), b.address()), 1);
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp pinned = new RawHttp(Proxies.port(s, "web"))) {
            io.sluice.cluster.Server serverA = s.cluster("app").server(a.address());
            slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            pinned.send("GET /pinned HTTP/1.1\r\nHost: a\r\nCookie: lb=" + serverA.stickyId() + "\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> serverA.queued() == 1);
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, "sluice_server_queue_length{cluster=\"app\",server=\"" + a.address() + "\"}"))
                    .isEqualTo(1);
            assertThat(b.requests).isEmpty();
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(pinned.read().text()).isEqualTo("/pinned");
            assertThat(a.requests).hasSize(2);
        }
    }

    @Test
    void requestsBeyondThePoolsMaxWaitingGet503AtOnceAndTheWaitIsVisible() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release));
             Sluice s = proxy("""
                     pool: { max_connections_per_loop: 1, max_waiting: 1 }
                     servers: [ { address: "%s" } ]
                     """.formatted(b.address()), 1);
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp waiting = new RawHttp(Proxies.port(s, "web"));
             RawHttp refused = new RawHttp(Proxies.port(s, "web"))) {
            holdSlow(slow, b);
            waiting.send("GET /waiting HTTP/1.1\r\nHost: a\r\n\r\n");
            String gauge = "sluice_server_pool_waiting{cluster=\"app\",server=\"" + b.address() + "\"}";
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> sample(Proxies.admin(s, "/metrics").body(), gauge) == 1);
            RawHttp.Response r = refused.get("/refused");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text()).contains("too many requests waiting");
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(waiting.read().text()).isEqualTo("/waiting");
            String m = Proxies.admin(s, "/metrics").body();
            assertThat(sample(m, gauge)).isEqualTo(0);
            assertThat(sample(m, "sluice_http_errors_total{listener=\"web\",reason=\"pool_full\"}")).isEqualTo(1);
        }
    }

    @Test
    void http2ClientsAreHeldToTheSameLimit() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        ConcurrencyProbe probe = new ConcurrencyProbe();
        try (HttpBackend b = new HttpBackend("a", probe.handler());
             Sluice s = proxy("""
                     queue: { max: 1000, timeout: 60s }
                     servers: [ { address: "%s", max_connections: 4 } ]
                     """.formatted(b.address()), 2)) {
            // 4 connections x 16 streams: 64 requests at a time over HTTP/2 (prior knowledge).
            ExternalTool.Run r = h2load.run("", "-n", "640", "-c", "4", "-m", "16",
                    "http://127.0.0.1:" + Proxies.port(s, "web") + "/h2");
            assertThat(r.output()).as(r.output()).contains("640 succeeded, 0 failed, 0 errored");
            assertThat(r.output()).as(r.output()).contains("status codes: 640 2xx");
            assertThat(probe.served.get()).isEqualTo(640);
            assertThat(probe.peak.get()).isLessThanOrEqualTo(4);
        }
    }

    @Test
    void streamsToAnHttp2ServerCountAgainstTheLimit() throws Exception {
        ExternalTool h2load = ExternalTool.require("h2load", "nghttp2-client");
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = Proxies.start("""
                     runtime: { worker_threads: 2 }
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { response_timeout: 1s } }
                     clusters:
                       - name: app
                         protocol: h2c
                         queue: { max: 1000, timeout: 60s }
                         servers: [ { address: "%s", max_connections: 2 } ]
                     """.formatted(a.address()))) {
            int port = Proxies.port(s, "web");
            ExternalTool.Run r = h2load.run("", "-n", "200", "-c", "2", "-m", "10", "http://127.0.0.1:" + port + "/x");
            assertThat(r.output()).as(r.output()).contains("200 succeeded, 0 failed, 0 errored");
            io.sluice.cluster.Server server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.slotsInUse() == 0);

            try (RawHttp hold1 = new RawHttp(port); RawHttp hold2 = new RawHttp(port);
                 RawHttp late = new RawHttp(port)) {
                hold1.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
                hold2.send("GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(10)).until(() -> server.slotsInUse() == 2);
                late.send("GET /late HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").queue().length() == 1);
                // The held requests time out (response_timeout): their streams end, their slots go to the waiter.
                assertThat(hold1.read().status()).isEqualTo(504);
                assertThat(late.read().text()).isEqualTo("a GET /late");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> server.slotsInUse() == 0);
        }
    }

    @TempDir
    java.nio.file.Path dir;

    @Test
    void aReloadRaisingTheLimitServesQueuedRequestsWithoutDroppingThem() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", HttpBackend.holding("/slow", release))) {
            String config = """
                    runtime: { worker_threads: 1 }
                    admin: { enabled: false }
                    listeners:
                      - { name: web, bind: "127.0.0.1:%d", protocol: http, cluster: app }
                    clusters:
                      - name: app
                        queue: { max: %d, timeout: 60s }
                        servers: [ { address: "%s", max_connections: %d } ]
                    """;
            int port = Proxies.freePort();
            java.nio.file.Path file = dir.resolve("sluice.yaml");
            java.nio.file.Files.writeString(file, config.formatted(port, 10, b.address(), 1));
            try (Sluice s = Sluice.start(io.sluice.config.ConfigLoader.load(file),
                    new io.sluice.runtime.ConfigFile(file), "start");
                 RawHttp slow = new RawHttp(port);
                 RawHttp q1 = new RawHttp(port);
                 RawHttp q2 = new RawHttp(port)) {
                holdSlow(slow, b);
                q1.send("GET /q1 HTTP/1.1\r\nHost: a\r\n\r\n");
                q2.send("GET /q2 HTTP/1.1\r\nHost: a\r\n\r\n");
                await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").queue().length() == 2);

                // A smaller queue keeps who already waits; a higher limit lets them in at once.
                java.nio.file.Files.writeString(file, config.formatted(port, 1, b.address(), 3));
                io.sluice.runtime.ReloadResult result = s.reloadAsync().get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(result.applied()).as(result.toString()).isTrue();
                assertThat(result.changes()).anyMatch(c -> c.contains("max_connections 1 -> 3"));
                assertThat(q1.read().text()).isEqualTo("/q1");
                assertThat(q2.read().text()).isEqualTo("/q2");
                release.countDown();
                assertThat(slow.read().text()).isEqualTo("/slow");
            }
        }
    }
}
