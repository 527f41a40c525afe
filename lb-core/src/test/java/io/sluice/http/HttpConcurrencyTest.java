package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Many requests at once from the JDK's HTTP client: every one answered by the right server, in bounded pools. */
class HttpConcurrencyTest {

    @Test
    void twoThousandConcurrentRequestsFromARealClient() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                     clusters:
                       - name: app
                         # 2000 requests share 16 connections: on a loaded 2-core machine the last of them wait
                         # longer than the default 5 s, which would be a 503 (pool_exhausted), not a bug.
                         connect_timeout: 60s
                         pool: { max_connections_per_loop: 8 }
                         servers: [ { address: "%s" }, { address: "%s" } ]
                     """.formatted(a.address(), b.address()))) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            int port = Proxies.port(s, "web");
            List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/r/" + i))
                        .timeout(Duration.ofSeconds(60));
                all.add(client.sendAsync(i % 3 == 0
                                ? req.POST(HttpRequest.BodyPublishers.ofString("x".repeat(i))).build()
                                : req.GET().build(),
                        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
            }
            int fromA = 0;
            for (int i = 0; i < all.size(); i++) {
                HttpResponse<String> r = all.get(i).get();
                assertThat(r.statusCode()).isEqualTo(200);
                String method = i % 3 == 0 ? "POST" : "GET";
                assertThat(r.body()).matches("[ab] " + method + " /r/" + i);
                fromA += r.body().startsWith("a") ? 1 : 0;
            }
            assertThat(fromA).isBetween(800, 1200);
            int loops = Runtime.getRuntime().availableProcessors();
            assertThat(a.accepted()).isLessThanOrEqualTo(8 * loops);
            assertThat(b.accepted()).isLessThanOrEqualTo(8 * loops);
        }
    }
}
