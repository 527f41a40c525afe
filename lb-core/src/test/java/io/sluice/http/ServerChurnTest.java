package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.internal.InternalThreadLocalMap;
import io.sluice.Sluice;
import io.sluice.config.HostPort;
import io.sluice.config.ServerConfig;
import io.sluice.testing.Proxies;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Servers that come and go (reloads, discovery) must not leave per-event-loop state behind. */
class ServerChurnTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void serversComingAndGoingDoNotGrowEveryEventLoopsThreadLocals() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     runtime: { worker_threads: 2 }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                     clusters:
                       - name: app
                         servers: [ { address: "%s" } ]
                     """.formatted(a.address()))) {
            URI uri = URI.create("http://127.0.0.1:" + Proxies.port(s, "web") + "/");
            for (int i = 0; i < 10; i++) {
                assertThat(get(uri)).startsWith("a ");
            }
            int slots = InternalThreadLocalMap.lastVariableIndex();
            String bLabel = b.address();
            for (int round = 0; round < 50; round++) {
                s.registry().addServer("app", new ServerConfig(HostPort.parse(b.address()), 1, false));
                Set<String> seen = new HashSet<>();
                for (int i = 0; i < 8 && !seen.contains("b"); i++) {
                    seen.add(get(uri).substring(0, 1)); // round robin: b answers within a few requests, opening pools on a loop
                }
                assertThat(seen).contains("b");
                s.registry().removeServer("app", bLabel);
            }
            assertThat(get(uri)).startsWith("a ");
            assertThat(InternalThreadLocalMap.lastVariableIndex())
                    .as("thread-local slots after 50 servers came and went").isEqualTo(slots);
        }
    }

    private static String get(URI uri) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body().trim();
    }
}
