package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The HTTP path feeding the balancers (per-request hash keys) and outlier detection (5xx). */
class HttpBalancingHealthTest {

    private static String backendOf(RawHttp c, String extraHeader) throws Exception {
        RawHttp.Response r = c.send("GET /x HTTP/1.1\r\nHost: a\r\n" + extraHeader + "\r\n").read();
        assertThat(r.status()).isEqualTo(200);
        return r.text().split(" ")[0];
    }

    @Test
    void maglevOnAHeaderSendsEachUserToOneServerAndKeylessRequestsToTheFallback() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             HttpBackend c = new HttpBackend("c", HttpBackend.sayName("c"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                     clusters:
                       - name: app
                         algorithm: maglev
                         hash_key: "header:x-user"
                         hash_fallback: round_robin
                         servers: [ { address: "%s" }, { address: "%s" }, { address: "%s" } ]
                     """.formatted(a.address(), b.address(), c.address()));
             RawHttp client = new RawHttp(Proxies.port(s, "web"))) {
            Set<String> usedByUsers = new HashSet<>();
            for (int user = 0; user < 30; user++) {
                String first = backendOf(client, "X-User: u" + user + "\r\n");
                for (int again = 0; again < 3; again++) {
                    assertThat(backendOf(client, "X-User: u" + user + "\r\n")).as("user u" + user).isEqualTo(first);
                }
                usedByUsers.add(first);
            }
            assertThat(usedByUsers).hasSizeGreaterThan(1);
            Set<String> keyless = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                keyless.add(backendOf(client, ""));
            }
            assertThat(keyless).containsExactlyInAnyOrder("a", "b", "c");
        }
    }

    @Test
    void fiveHundredsEjectAServerWhenOutlierDetectionCountsThem() throws Exception {
        try (HttpBackend broken = new HttpBackend("broken", (req, out, socket) ->
                HttpBackend.respond(out, 500, "text/plain", "boom".getBytes(StandardCharsets.US_ASCII)));
             HttpBackend good = new HttpBackend("good", HttpBackend.sayName("good"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                     clusters:
                       - name: app
                         outlier_detection: { consecutive_failures: 2, base_ejection_time: 30s, failures: [ 5xx ] }
                         servers: [ { address: "%s" }, { address: "%s" } ]
                     """.formatted(broken.address(), good.address()));
             RawHttp client = new RawHttp(Proxies.port(s, "web"))) {
            Server bad = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").read();
                return bad.ejected();
            });
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                for (int i = 0; i < 6; i++) {
                    if (client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").read().status() != 200) {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    @Test
    void stickyCookiePinsAClientWhileItsServerIsAvailableAndMovesItWhenNot() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             HttpBackend c = new HttpBackend("c", HttpBackend.sayName("c"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                     clusters:
                       - name: app
                         sticky_cookie: { name: lb, ttl: 1h, secure: true, same_site: strict }
                         panic_threshold: 0
                         servers: [ { address: "%s" }, { address: "%s" }, { address: "%s" } ]
                     """.formatted(a.address(), b.address(), c.address()));
             RawHttp client = new RawHttp(Proxies.port(s, "web"))) {
            RawHttp.Response first = client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").read();
            String setCookie = first.header("set-cookie");
            assertThat(setCookie).startsWith("lb=").contains("Max-Age=3600", "Path=/", "Secure", "HTTPOnly",
                    "SameSite=Strict");
            String cookie = setCookie.substring(0, setCookie.indexOf(';'));
            String pinnedName = first.text().split(" ")[0];
            for (int i = 0; i < 10; i++) {
                RawHttp.Response r = client.send("GET / HTTP/1.1\r\nHost: a\r\nCookie: x=1; " + cookie
                        + "\r\n\r\n").read();
                assertThat(r.text().split(" ")[0]).isEqualTo(pinnedName);
                assertThat(r.header("set-cookie")).as("no new cookie while pinned").isNull();
            }

            Server pinned = s.cluster("app").servers().stream()
                    .filter(sv -> sv.stickyId().equals(cookie.substring(3))).findFirst().orElseThrow();
            s.cluster("app").setHealthy(pinned, false, "test");
            await().atMost(Duration.ofSeconds(5)).until(() -> {
                RawHttp.Response r = client.send("GET / HTTP/1.1\r\nHost: a\r\nCookie: " + cookie
                        + "\r\n\r\n").read();
                return !r.text().split(" ")[0].equals(pinnedName) && r.header("set-cookie") != null
                        && !r.header("set-cookie").startsWith(cookie + ";");
            });
        }
    }
}
