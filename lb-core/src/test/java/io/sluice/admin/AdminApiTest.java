package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runtime admin API: what operators see and change without editing the file. */
class AdminApiTest {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private static String config(String a, String b, int bWeight, String token) {
        return """
                admin: { bind: "127.0.0.1:0"%s }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters:
                  - name: app
                    algorithm: weighted_round_robin
                    servers: [ { address: "%s" }, { address: "%s", weight: %d } ]
                """.formatted(token == null ? "" : ", token_file: \"" + token + "\"", a, b, bWeight);
    }

    private static HttpResponse<String> call(Sluice s, String method, String path, String body, String token)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return CLIENT.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, Integer> spread(int port, int n) throws Exception {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < n; i++) {
            m.merge(Proxies.exchange(port).trim(), 1, Integer::sum);
        }
        return m;
    }

    @Test
    void drainDisableEnableAndWeightChangeTheRotationAndSurviveAReload() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName());
             TestBackend b = TestBackend.start("b", TestBackend.sayName());
             TestBackend held = TestBackend.start("held", TestBackend.hold())) {
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, config(a.address(), b.address(), 1, null));
            try (Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "x")) {
                int port = Proxies.port(s, "front");
                String bPath = "/admin/clusters/app/servers/" + b.address();
                HttpResponse<String> clusters = call(s, "GET", "/admin/clusters", null, null);
                assertThat(clusters.statusCode()).isEqualTo(200);
                assertThat(clusters.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
                assertThat(clusters.body()).contains("\"address\":\"" + b.address() + "\",\"state\":\"up\"")
                        .contains("\"writes_need_token\":false");
                assertThat(call(s, "GET", "/admin/listeners", null, null).body())
                        .contains("\"bind\":\"127.0.0.1:0\",\"bound\":\"127.0.0.1:" + port + "\"");

                HttpResponse<String> drained = call(s, "POST", bPath + "/drain", null, null);
                assertThat(drained.statusCode()).isEqualTo(200);
                assertThat(drained.body()).contains("\"address\":\"" + b.address() + "\",\"state\":\"draining\"");
                assertThat(spread(port, 10)).containsOnlyKeys("a");
                assertThat(s.metrics().scrape()).contains(
                        "sluice_server_admin_state{cluster=\"app\",server=\"" + b.address() + "\",state=\"draining\"} 1.0");

                assertThat(call(s, "PUT", bPath + "/weight", "{\"weight\": 3}", null).statusCode()).isEqualTo(200);
                // A reload that changes b's configured weight keeps the operator's drain and weight.
                Files.writeString(file, config(a.address(), b.address(), 5, null));
                assertThat(call(s, "POST", "/admin/reload", null, null).body()).contains("\"result\":\"applied\"");
                String app = call(s, "GET", "/admin/clusters/app", null, null).body();
                assertThat(app).contains("\"state\":\"draining\",\"admin_state\":\"draining\"")
                        .contains("\"weight\":3,\"configured_weight\":5");

                assertThat(call(s, "POST", bPath + "/enable", null, null).statusCode()).isEqualTo(200);
                assertThat(spread(port, 8)).containsOnlyKeys("a", "b").containsEntry("b", 6); // weight 3 of 4

                assertThat(call(s, "POST", "/admin/clusters/nope/servers/x:1/drain", null, null).statusCode()).isEqualTo(404);
                assertThat(call(s, "POST", "/admin/clusters/app/servers/10.9.9.9:1/drain", null, null).statusCode())
                        .isEqualTo(404);
                HttpResponse<String> bad = call(s, "PUT", bPath + "/weight", "{\"weight\": 0}", null);
                assertThat(bad.statusCode()).isEqualTo(400);
                assertThat(bad.body()).contains("weight must be 1 to 10000");
                assertThat(call(s, "PUT", bPath + "/weight", "weight=2", null).statusCode()).isEqualTo(400);
                assertThat(call(s, "GET", "/admin/clusters/app", null, null).body()).contains("\"weight\":3");
                assertThat(call(s, "GET", "/admin/config", null, null).body())
                        .contains("\"drain_timeout\":\"30s\"").contains("\"listeners\":[{\"name\":\"front\"");
            }
        }
    }

    @Test
    void disableClosesTheServersOpenConnections() throws Exception {
        try (TestBackend a = TestBackend.start("a", TestBackend.echo());
             Sluice s = Proxies.start("""
                     admin: { bind: "127.0.0.1:0" }
                     listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(a.address()));
             Socket client = Proxies.connect(Proxies.port(s, "front"))) {
            Proxies.roundTrip(client, "ping");
            assertThat(call(s, "POST", "/admin/clusters/app/servers/" + a.address() + "/disable", null, null)
                    .statusCode()).isEqualTo(200);
            assertThat(client.getInputStream().read()).as("the relay was closed").isEqualTo(-1);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.openConnections() == 0);
            assertThat(Proxies.exchange(Proxies.port(s, "front"))).as("no server takes new work").isEmpty();
        }
    }

    @Test
    void withATokenWritesNeedItAndReadsDoNot() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "s3cret\n");
        try (TestBackend a = TestBackend.start("a", TestBackend.sayName());
             Sluice s = Proxies.start(config(a.address(), "127.0.0.1:9", 1, token.toString()))) {
            String path = "/admin/clusters/app/servers/" + a.address() + "/drain";
            HttpResponse<String> denied = call(s, "POST", path, null, null);
            assertThat(denied.statusCode()).isEqualTo(401);
            assertThat(denied.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"sluice\"");
            assertThat(call(s, "POST", path, null, "wrong").statusCode()).isEqualTo(401);
            assertThat(s.cluster("app").server(a.address()).adminState().label()).isEqualTo("enabled");
            assertThat(call(s, "POST", path, null, "s3cret").statusCode()).isEqualTo(200);
            HttpResponse<String> read = call(s, "GET", "/admin/clusters", null, null);
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(read.body()).as("tells the status page to ask for the token").contains("\"writes_need_token\":true");
        }
    }

    @Test
    void anAdminEndpointOffLoopbackNeedsAToken() {
        assertThatThrownBy(() -> ConfigLoader.parse("""
                admin: { bind: "0.0.0.0:9901" }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                """)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("admin.bind").hasMessageContaining("needs admin.token_file");
        assertThatThrownBy(() -> Proxies.start("""
                admin: { bind: "127.0.0.1:0", token_file: /nonexistent/token }
                listeners: [ { name: front, bind: "127.0.0.1:0", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                """)).hasMessageContaining("/nonexistent/token");
    }
}
