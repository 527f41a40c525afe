package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** least_response_time with real servers: a slow start costs a server little of its share; a slow server gets little. */
class LeastResponseTimeFairnessHttpTest {
    private static final int REQUESTS = 300;

    /** Answers with its name, each response {@code extraMillis} late, and its first {@code slowFirst} 200 ms late. */
    private static HttpBackend.Handler delayed(String name, int slowFirst, int extraMillis) {
        AtomicInteger served = new AtomicInteger();
        return (req, out, s) -> {
            req.readBody();
            int delay = (served.getAndIncrement() < slowFirst ? 200 : 0) + extraMillis;
            if (delay > 0) {
                try {
                    Thread.sleep(delay); // the server's own slowness, not a wait of the test
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            // One write: a head and body in two would wait on Nagle and the proxy's delayed ACK every time.
            HttpBackend.respondRaw(out, "HTTP/1.1 200 OK\r\nContent-Length: " + name.length() + "\r\n\r\n" + name);
        };
    }

    private static Map<String, Integer> sequentialShares(HttpBackend a, HttpBackend b, HttpBackend c) throws Exception {
        Map<String, Integer> shares = new HashMap<>();
        try (Sluice s = Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    algorithm: least_response_time
                    servers: [ { address: "%s" }, { address: "%s" }, { address: "%s" } ]
                """.formatted(a.address(), b.address(), c.address()));
             RawHttp client = new RawHttp(Proxies.port(s, "web"))) {
            for (int i = 0; i < REQUESTS; i++) {
                RawHttp.Response r = client.get("/x");
                assertThat(r.status()).isEqualTo(200);
                shares.merge(r.text(), 1, Integer::sum);
            }
        }
        return shares;
    }

    @Test
    void aServerWhoseFirstResponsesWereSlowGetsAFairShareFromStartUp() throws Exception {
        try (HttpBackend a = new HttpBackend("a", delayed("a", 3, 0));
             HttpBackend b = new HttpBackend("b", delayed("b", 0, 0));
             HttpBackend c = new HttpBackend("c", delayed("c", 0, 0))) {
            Map<String, Integer> shares = sequentialShares(a, b, c);
            for (String name : new String[] {"a", "b", "c"}) {
                assertThat(shares.getOrDefault(name, 0)).as("%s's share of %s", name, shares)
                        .isBetween(REQUESTS / 3 / 2, REQUESTS / 3 * 2);
            }
        }
    }

    @Test
    void aTrulySlowServerGetsClearlyLess() throws Exception {
        try (HttpBackend a = new HttpBackend("a", delayed("a", 0, 50));
             HttpBackend b = new HttpBackend("b", delayed("b", 0, 0));
             HttpBackend c = new HttpBackend("c", delayed("c", 0, 0))) {
            Map<String, Integer> shares = sequentialShares(a, b, c);
            int slow = shares.getOrDefault("a", 0);
            assertThat(slow).as("probes of the slow server in %s", shares).isPositive()
                    .isLessThan(shares.getOrDefault("b", 0) / 2)
                    .isLessThan(shares.getOrDefault("c", 0) / 2);
        }
    }
}
