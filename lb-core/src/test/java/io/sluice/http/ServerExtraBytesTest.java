package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * A server that sends more than its response (here a Content-Length shorter than what follows, which looks like a
 * second response): those bytes answer no request, and a connection that still holds them is closed, not reused.
 * Reused, its next request (another client's, on a pool of one connection) would get them as its response: a
 * response desync across clients.
 */
class ServerExtraBytesTest {
    @AutoClose
    final Resources resources = new Resources();

    @Test
    void bytesBeyondAResponseNeverReachTheNextClient() throws Exception {
        CountDownLatch answer = new CountDownLatch(1);
        HttpBackend server = resources.keep(new HttpBackend("s", (req, out, socket) -> {
            if (req.uri().equals("/liar")) {
                try {
                    answer.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
                        + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!");
            } else {
                HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: " + (5 + req.uri().length())
                        + "\r\n\r\nreal " + req.uri());
            }
        }));
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    pool: { max_connections_per_loop: 1 }
                    servers: [ { address: "%s" } ]
                """.formatted(server.address())));
        int port = Proxies.port(s, "web");
        Server one = s.cluster("app").servers().get(0);
        ServerPools pools = ((HttpListener) s.listener("web")).routes().all().get(0).upstream().pools(one);
        try (RawHttp a = new RawHttp(port); RawHttp b = new RawHttp(port)) {
            a.socket.setSoTimeout(20_000); // bounds for a hang, not timing assertions
            b.socket.setSoTimeout(20_000);
            a.send("GET /liar HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.inUse() == 1);
            // Another client's request waits for the pool's one connection, and gets it as /liar's response ends.
            b.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> pools.waiting() == 1);
            answer.countDown();
            RawHttp.Response r = a.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo("hi");
            assertThat(b.read().text()).as("another client's response").isEqualTo("real /next");
        }
        assertThat(server.accepted()).as("the connection that held the extra bytes was not reused").isEqualTo(2);
    }
}
