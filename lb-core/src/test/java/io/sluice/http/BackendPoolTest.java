package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The pool limits of a cluster: requests per connection, idle time, connections per loop. */
class BackendPoolTest {

    private static Sluice proxy(HttpBackend b, String pool) throws Exception {
        return proxy(b, pool, "5s");
    }

    private static Sluice proxy(HttpBackend b, String pool, String connectTimeout) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    connect_timeout: %s
                    pool: { %s }
                    servers: [ { address: "%s" } ]
                """.formatted(connectTimeout, pool, b.address()));
    }

    @Test
    void connectionIsRetiredAfterMaxRequests() throws Exception {
        try (HttpBackend b = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = proxy(b, "max_requests_per_connection: 2");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            for (int i = 0; i < 6; i++) {
                assertThat(c.get("/").status()).isEqualTo(200);
            }
            assertThat(b.accepted()).isEqualTo(3);
        }
    }

    @Test
    void idleConnectionIsClosedAfterMaxIdleTime() throws Exception {
        try (HttpBackend b = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = proxy(b, "max_idle_time: 200ms");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            assertThat(c.get("/").status()).isEqualTo(200);
            ServerPools pools = s.cluster("app").servers().stream().map(sv -> upstreamPools(s, sv)).findFirst()
                    .orElseThrow();
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.idle() == 0
                    && s.cluster("app").servers().get(0).pooledConnections() == 0);
            assertThat(c.get("/").status()).isEqualTo(200);
            assertThat(b.accepted()).isEqualTo(2);
        }
    }

    private static ServerPools upstreamPools(Sluice s, io.sluice.cluster.Server server) {
        HttpListener l = (HttpListener) s.listener("web");
        return l.routes().all().get(0).upstream().pools(server);
    }

    @Test
    void requestsBeyondMaxConnectionsWaitForAFreeConnection() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", (req, out, sock) -> {
            req.readBody();
            if (req.uri().equals("/slow")) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            HttpBackend.respond(out, 200, "text/plain", req.uri().getBytes(StandardCharsets.UTF_8));
        });
             Sluice s = proxy(b, "max_connections_per_loop: 1");
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp fast = new RawHttp(Proxies.port(s, "web"))) {
            slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> b.requests.size() == 1);
            fast.send("GET /fast HTTP/1.1\r\nHost: a\r\n\r\n");
            CompletableFuture<String> fastBody = CompletableFuture.supplyAsync(() -> {
                try {
                    return fast.read().text();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            assertThat(fastBody).isNotDone();
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(fastBody.get()).isEqualTo("/fast");
            assertThat(b.accepted()).isEqualTo(1);
        }
    }

    @Test
    void waitingLongerThanTheConnectTimeoutForAPooledConnectionGets503() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HttpBackend b = new HttpBackend("a", (req, out, sock) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            HttpBackend.respond(out, 200, "text/plain", req.uri().getBytes(StandardCharsets.UTF_8));
        });
             Sluice s = proxy(b, "max_connections_per_loop: 1", "200ms");
             RawHttp slow = new RawHttp(Proxies.port(s, "web"));
             RawHttp waiting = new RawHttp(Proxies.port(s, "web"))) {
            slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> b.requests.size() == 1);
            RawHttp.Response r = waiting.get("/waits");
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.text()).contains("no connection to a server came free");
            release.countDown();
            assertThat(slow.read().text()).isEqualTo("/slow");
            assertThat(waiting.get("/now").text()).isEqualTo("/now");
        }
    }
}
