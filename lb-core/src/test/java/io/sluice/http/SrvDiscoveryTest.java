package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.cluster.Server;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Servers from DNS SRV records, served by a real dnsmasq whose records the test rewrites (and restarts it to
 * read them: dnsmasq reads srv-host only at start), in front of real HTTP backends.
 */
class SrvDiscoveryTest {
    private static final String SRV = "_http._tcp.app.test";
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;
    private Dnsmasq dns;
    private final List<HttpBackend> backends = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void startDns() throws Exception {
        dns = new Dnsmasq(ExternalTool.require("dnsmasq", "dnsmasq-base"), dir, Proxies.freePort());
    }

    @AfterEach
    void stop() throws IOException {
        release.countDown();
        dns.close();
        for (HttpBackend b : backends) {
            b.close();
        }
    }

    /** A backend that answers with its name, and holds a request for /slow until the test lets it go. */
    private HttpBackend backend(String name) throws IOException {
        HttpBackend b = new HttpBackend(name, (req, out, s) -> {
            req.readBody();
            if (req.uri().equals("/slow")) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            HttpBackend.respond(out, 200, "text/plain", name.getBytes(StandardCharsets.UTF_8));
        });
        backends.add(b);
        return b;
    }

    private static int port(HttpBackend b) {
        return Integer.parseInt(b.address().substring(b.address().lastIndexOf(':') + 1));
    }

    /** An SRV record for backend {@code b} under the host name {@code host}.test, which resolves to 127.0.0.1. */
    private static String srv(String host, HttpBackend b, int priority, int weight) {
        return "srv-host=" + SRV + "," + host + ".test," + port(b) + "," + priority + "," + weight + "\n"
                + "host-record=" + host + ".test,127.0.0.1\n";
    }

    private Sluice start(String algorithm) throws Exception {
        return Proxies.start("""
                runtime: { dns_refresh: 1s, dns_servers: ["127.0.0.1:%d"] }
                admin: { bind: "127.0.0.1:0" }
                listeners: [ { name: front, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    algorithm: %s
                    servers: [ { srv: "%s" } ]
                """.formatted(dns.port, algorithm, SRV));
    }

    private static HttpResponse<String> get(Sluice s, String path) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Proxies.port(s, "front") + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Map<String, Integer> spread(Sluice s, int n) throws Exception {
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < n; i++) {
            m.merge(get(s, "/").body(), 1, Integer::sum);
        }
        return m;
    }

    private static double resolutions(Sluice s, String result) {
        double v = Proxies.sample(s.metrics().scrape(),
                "sluice_dns_resolutions_total{cluster=\"app\",result=\"" + result + "\"}");
        return Double.isNaN(v) ? 0 : v;
    }

    private static String label(String host, HttpBackend b) {
        return host + ".test:" + port(b);
    }

    @Test
    void serversFollowTheRecordsAndThoseThatStayKeepTheirState() throws Exception {
        HttpBackend a = backend("a");
        HttpBackend b = backend("b");
        HttpBackend c = backend("c");
        dns.serve(srv("a", a, 10, 1) + srv("b", b, 10, 1));
        try (Sluice s = start("round_robin")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> spread(s, 4).keySet().equals(java.util.Set.of("a", "b")));
            Server kept = s.cluster("app").server(label("b", b));
            // An operator's weight on a discovered server, and a request in flight on one that stays.
            HttpResponse<String> weighted = call(s, "PUT", "/admin/clusters/app/servers/" + label("b", b) + "/weight",
                    "{\"weight\": 7}");
            assertThat(weighted.statusCode()).isEqualTo(200);
            CompletableFuture<HttpResponse<String>> inFlight = CLIENT.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + Proxies.port(s, "front") + "/slow")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.stream().anyMatch(r -> r.uri().equals("/slow"))
                    || b.requests.stream().anyMatch(r -> r.uri().equals("/slow")));
            boolean slowOnA = a.requests.stream().anyMatch(r -> r.uri().equals("/slow"));
            HttpBackend holder = slowOnA ? a : b;

            // c appears: it takes work, and the others are the same servers as before.
            dns.serve(srv("a", a, 10, 1) + srv("b", b, 10, 1) + srv("c", c, 10, 1));
            await().atMost(Duration.ofSeconds(15)).until(() -> spread(s, 9).containsKey("c"));
            assertThat(s.cluster("app").server(label("b", b))).isSameAs(kept);

            // The one not holding the slow request disappears: it leaves, the others stay as they were.
            HttpBackend gone = slowOnA ? b : a;
            String goneName = slowOnA ? "b" : "a";
            String holderName = slowOnA ? "a" : "b";
            dns.serve(srv(holderName, holder, 10, 1) + srv("c", c, 10, 1));
            await().atMost(Duration.ofSeconds(15)).until(() -> s.cluster("app").server(label(goneName, gone)) == null);
            assertThat(spread(s, 10)).containsOnlyKeys(holderName, "c");
            assertThat(inFlight).isNotDone();
            release.countDown();
            HttpResponse<String> slow = inFlight.get(10, TimeUnit.SECONDS);
            assertThat(slow.statusCode()).isEqualTo(200);
            assertThat(slow.body()).isEqualTo(holderName);
            if (slowOnA) {
                return; // b, with the operator's weight, is the one that left
            }
            assertThat(s.cluster("app").server(label("b", b))).isSameAs(kept);
            assertThat(kept.weightOverride()).isEqualTo(7);
            assertThat(Proxies.admin(s, "/admin/clusters/app").body()).contains("\"address\":\"" + label("b", b) + "\"")
                    .contains("\"weight\":7");
            assertThat(s.metrics().scrape()).contains("server=\"" + label("c", c) + "\"")
                    .doesNotContain("server=\"" + label("a", a) + "\"");
        }
    }

    private static HttpResponse<String> call(Sluice s, String method, String path, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.adminAddress().getPort() + path))
                .timeout(Duration.ofSeconds(10)).method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anSrvEntrysMaxConnectionsLimitsEachServerItNames() throws Exception {
        HttpBackend a = backend("a");
        dns.serve(srv("a", a, 10, 1));
        try (Sluice s = Proxies.start("""
                runtime: { dns_refresh: 1s, dns_servers: ["127.0.0.1:%d"] }
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    queue: { timeout: 60s }
                    servers: [ { srv: "%s", max_connections: 1 } ]
                """.formatted(dns.port, SRV))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").server(label("a", a)) != null);
            assertThat(s.cluster("app").server(label("a", a)).maxConnections()).isEqualTo(1);
            CompletableFuture<HttpResponse<String>> held = CLIENT.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + Proxies.port(s, "front") + "/slow")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.stream().anyMatch(r -> r.uri().equals("/slow")));
            // The server is at its one request: the next one waits in the cluster's queue, not at the server.
            CompletableFuture<HttpResponse<String>> next = CLIENT.sendAsync(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + Proxies.port(s, "front") + "/next")).build(),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").queue().length() == 1);
            assertThat(a.requests).noneMatch(r -> r.uri().equals("/next"));
            release.countDown();
            assertThat(held.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
            assertThat(next.get(10, TimeUnit.SECONDS).body()).isEqualTo("a");
        }
    }

    @Test
    void srvWeightsShapeTheSpreadAndWeightZeroIsTheSmallest() throws Exception {
        HttpBackend a = backend("a");
        HttpBackend b = backend("b");
        HttpBackend z = backend("z");
        dns.serve(srv("a", a, 0, 1) + srv("b", b, 0, 3) + srv("z", z, 0, 0));
        try (Sluice s = start("weighted_round_robin")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").servers().size() == 3
                    && s.cluster("app").servers().stream().allMatch(sv -> sv.resolved() != null));
            assertThat(s.cluster("app").server(label("z", z)).weight()).isEqualTo(1);
            assertThat(spread(s, 50)).containsEntry("a", 10).containsEntry("b", 30).containsEntry("z", 10);
        }
    }

    @Test
    void higherPriorityValuesAreBackupsUntilThePrimariesLeave() throws Exception {
        HttpBackend primary = backend("primary");
        HttpBackend backup = backend("backup");
        dns.serve(srv("p", primary, 10, 5) + srv("q", backup, 20, 5));
        try (Sluice s = start("round_robin")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").servers().size() == 2);
            assertThat(s.cluster("app").server(label("q", backup)).backup()).isTrue();
            assertThat(s.cluster("app").server(label("p", primary)).backup()).isFalse();
            assertThat(spread(s, 6)).containsOnlyKeys("primary");

            dns.serve(srv("q", backup, 20, 5)); // the only priority left is the best one: a primary now
            await().atMost(Duration.ofSeconds(15)).until(() -> s.cluster("app").servers().size() == 1);
            assertThat(s.cluster("app").server(label("q", backup)).backup()).isFalse();
            assertThat(spread(s, 3)).containsOnlyKeys("backup");
        }
    }

    @Test
    void aStoppedDnsServerKeepsTheLastAnswerAndCountsTimeouts() throws Exception {
        HttpBackend a = backend("a");
        dns.serve(srv("a", a, 10, 1));
        try (Sluice s = start("round_robin")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> "a".equals(get(s, "/").body()));
            assertThat(resolutions(s, "success")).isPositive();
            dns.stop();
            await().atMost(Duration.ofSeconds(20)).until(() -> resolutions(s, "timeout") >= 2);
            assertThat(s.cluster("app").servers()).extracting(Server::label).containsExactly(label("a", a));
            assertThat(get(s, "/").body()).isEqualTo("a");
        }
    }

    @Test
    void aNameThatNeverResolvedGivesNoServersUntilItDoes() throws Exception {
        HttpBackend a = backend("a");
        dns.serve(""); // the domain is dnsmasq's own: the SRV name is NXDOMAIN
        try (Sluice s = start("round_robin")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> resolutions(s, "nxdomain") >= 1);
            assertThat(s.cluster("app").servers()).isEmpty();
            assertThat(get(s, "/").statusCode()).isEqualTo(503);

            dns.serve(srv("a", a, 10, 1));
            await().atMost(Duration.ofSeconds(15)).until(() -> "a".equals(get(s, "/").body()));
        }
    }

    @Test
    void anAnswerTooLargeForUdpIsAskedAgainOverTcp() throws Exception {
        HttpBackend a = backend("a");
        StringBuilder records = new StringBuilder();
        int targets = 120; // about 6 KB of SRV and A records: over any UDP answer dnsmasq gives
        for (int i = 0; i < targets; i++) {
            records.append(srv("target-with-a-longer-name-" + i, a, 10, 1));
        }
        dns.serve(records.toString());
        try (Sluice s = start("round_robin")) {
            await().atMost(Duration.ofSeconds(15)).until(() -> s.cluster("app").servers().size() == targets
                    && s.cluster("app").servers().stream().allMatch(sv -> sv.resolved() != null));
            assertThat(get(s, "/").body()).isEqualTo("a");
        }
    }

    @Test
    void hostNamesAreAskedOfTheSameDnsServers() throws Exception {
        HttpBackend a = backend("a");
        dns.serve("host-record=plain.test,127.0.0.1\n"); // a name only this dnsmasq knows
        try (Sluice s = Proxies.start("""
                runtime: { dns_refresh: 1s, dns_servers: ["127.0.0.1:%d"] }
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "plain.test:%d" } ] } ]
                """.formatted(dns.port, port(a)))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").servers().get(0).resolved() != null);
            assertThat(get(s, "/").body()).isEqualTo("a");
        }
    }

    @Test
    void aReloadKeepsDiscoveredServersAndDroppingTheNameRemovesThem() throws Exception {
        HttpBackend a = backend("a");
        HttpBackend fixed = backend("fixed");
        dns.serve(srv("a", a, 10, 1));
        Path file = dir.resolve("sluice.yaml");
        String yaml = """
                runtime: { dns_refresh: 1s, dns_servers: ["127.0.0.1:%d"] }
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    servers: [ %s ]
                """;
        Files.writeString(file, yaml.formatted(dns.port, "{ srv: \"" + SRV + "\" }"));
        try (Sluice s = Sluice.start(io.sluice.config.ConfigLoader.load(file), new io.sluice.runtime.ConfigFile(file), "x")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> s.cluster("app").server(label("a", a)) != null);
            Server discovered = s.cluster("app").server(label("a", a));

            Files.writeString(file, yaml.formatted(dns.port, "{ srv: \"" + SRV + "\" }, { address: \"" + fixed.address()
                    + "\" }"));
            assertThat(s.reloadAsync().get(30, TimeUnit.SECONDS).changes())
                    .containsExactly("cluster app: server " + fixed.address() + " added");
            assertThat(s.cluster("app").server(label("a", a))).isSameAs(discovered);
            assertThat(spread(s, 4)).containsOnlyKeys("a", "fixed");

            Files.writeString(file, yaml.formatted(dns.port, "{ address: \"" + fixed.address() + "\" }"));
            assertThat(s.reloadAsync().get(30, TimeUnit.SECONDS).changes())
                    .containsExactly("cluster app: server " + label("a", a) + " removed");
            assertThat(spread(s, 4)).containsOnlyKeys("fixed");
            assertThat(s.metrics().scrape()).doesNotContain("sluice_dns_resolutions_total");
        }
    }

    /** dnsmasq on a loopback port, answering for {@code test} from a file the test rewrites. */
    private static final class Dnsmasq implements AutoCloseable {
        private final ExternalTool tool;
        private final Path conf;
        final int port;
        private Process process;

        Dnsmasq(ExternalTool tool, Path dir, int port) {
            this.tool = tool;
            this.conf = dir.resolve("dnsmasq.conf");
            this.port = port;
        }

        /** Serves these records from now on: dnsmasq reads srv-host only when it starts, so it starts again. */
        void serve(String records) throws Exception {
            stop();
            Files.writeString(conf, "local=/test/\n" + records);
            process = new ProcessBuilder(tool.path().toString(), "--no-daemon", "--port=" + port,
                    "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                    "--conf-file=" + conf, "--pid-file", "--log-facility=-").redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            // "started" comes once its sockets are bound.
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.contains("started, version")) {
                    Thread drain = new Thread(() -> {
                        try {
                            out.transferTo(java.io.Writer.nullWriter());
                        } catch (IOException e) {
                            // dnsmasq stopped
                        }
                    }, "dnsmasq-output");
                    drain.setDaemon(true);
                    drain.start();
                    return;
                }
            }
            throw new IllegalStateException("dnsmasq did not start:\n" + seen);
        }

        void stop() throws InterruptedException {
            if (process != null) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
                process = null;
            }
        }

        @Override
        public void close() {
            try {
                stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
