package io.sluice.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.Sluice;
import io.sluice.testing.HeadlessChromium;
import io.sluice.testing.Proxies;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser (headless Chromium over the DevTools protocol): rows for every server,
 * live state changes without a reload, and the drain button, with and without an admin token.
 * Set {@code SLUICE_SCREENSHOT=docs/status-page.png} (or {@code -Dsluice.screenshot=...}) to save a picture of
 * the page; the test then lets the sparklines fill for three minutes first, so also pass
 * {@code -Djunit.jupiter.execution.timeout.default=10m}.
 */
class StatusPageTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Duration LIVE = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private Path chromium;

    /** Chromium, or a failure on CI and a skip elsewhere when it is not installed. */
    @BeforeEach
    void needChromium() {
        var binary = HeadlessChromium.find();
        String missing = "the status page tests need a headless browser: install Debian's '" + HeadlessChromium.PACKAGE
                + "' package (apt-get install -y " + HeadlessChromium.PACKAGE + ") or set SLUICE_CHROMIUM";
        if (binary.isEmpty()) {
            if ("true".equals(System.getenv("CI"))) {
                fail(missing);
            }
            Assumptions.abort(missing);
        }
        chromium = binary.get();
    }

    private HeadlessChromium browser(String url) throws Exception {
        return HeadlessChromium.start(chromium, url);
    }

    /** A real HTTP server on loopback that answers after a short, varying delay (so percentiles differ). */
    private record Backend(String name, HttpServer server, ExecutorService pool) implements AutoCloseable {
        static Backend start(String name) throws Exception {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
            ExecutorService pool = Executors.newCachedThreadPool();
            s.setExecutor(pool);
            s.createContext("/", ex -> {
                try {
                    ex.getRequestBody().readAllBytes();
                    int r = ThreadLocalRandom.current().nextInt(100);
                    TimeUnit.MICROSECONDS.sleep(r < 90 ? 300 + r * 20L : 15_000 + r * 100L);
                    byte[] body = (name + "\n").getBytes(StandardCharsets.UTF_8);
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    ex.close();
                }
            });
            s.start();
            return new Backend(name, s, pool);
        }

        String address() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        /** Stops listening and answering: the server is gone, as if its process died. */
        void stop() {
            server.stop(0);
            pool.shutdownNow();
        }

        @Override
        public void close() {
            stop();
        }
    }

    /** Requests through the listener at a rate that swells and ebbs, until closed. */
    private static ScheduledExecutorService load(int port) {
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        URI uri = URI.create("http://127.0.0.1:" + port + "/");
        s.scheduleAtFixedRate(() -> {
            double p = 0.55 + 0.45 * Math.sin(System.currentTimeMillis() / 8000.0);
            if (ThreadLocalRandom.current().nextDouble() < Math.max(0.15, p)) {
                try {
                    CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.discarding());
                } catch (Exception ignored) {
                    // a stopped backend may fail a request or two before its check marks it down
                }
            }
        }, 0, 15, TimeUnit.MILLISECONDS);
        return s;
    }

    private static String config(List<Backend> backends, Path tokenFile) {
        StringBuilder servers = new StringBuilder();
        for (Backend b : backends) {
            servers.append(servers.length() == 0 ? "" : ", ").append("{ address: \"").append(b.address()).append("\" }");
        }
        return """
                admin: { bind: "127.0.0.1:0"%s }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters:
                  - name: app
                    algorithm: round_robin
                    health_check: { type: tcp, interval: 200ms, timeout: 150ms, fall: 1, rise: 1 }
                    servers: [ %s ]
                """.formatted(tokenFile == null ? "" : ", token_file: \"" + tokenFile + "\"", servers);
    }

    private static String pageUrl(Sluice s) {
        return "http://127.0.0.1:" + s.adminAddress().getPort() + "/";
    }

    /** Each server row's address and state badge, as the page shows them now. */
    @SuppressWarnings("unchecked")
    private static Map<String, String> states(HeadlessChromium page) throws Exception {
        List<List<String>> rows = (List<List<String>>) page.evaluate("[...document.querySelectorAll('tr[data-server]')]"
                + ".map(r => [r.dataset.server, r.querySelector('.badge').textContent])");
        Map<String, String> m = new LinkedHashMap<>();
        rows.forEach(r -> m.put(r.get(0), r.get(1)));
        return m;
    }

    private static String cell(HeadlessChromium page, String server, String cls) throws Exception {
        return (String) page.evaluate("document.querySelector('tr[data-server=\"" + server + "\"] td." + cls
                + "').textContent");
    }

    private static String row(String server) {
        return "tr[data-server=\"" + server + "\"]";
    }

    private static double buttons(HeadlessChromium page) throws Exception {
        return ((Number) page.evaluate("document.querySelectorAll('button[data-action]').length")).doubleValue();
    }

    private static String api(Sluice s) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create(pageUrl(s) + "admin/clusters")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void rowsFollowTheServersLiveAndTheDrainButtonDrains() throws Exception {
        // Four servers, so that with one down and one draining half are still up and the cluster is not in panic.
        try (Backend a = Backend.start("a"); Backend b = Backend.start("b"); Backend c = Backend.start("c");
             Backend d = Backend.start("d");
             Sluice s = Proxies.start(config(List.of(a, b, c, d), null))) {
            ScheduledExecutorService traffic = load(Proxies.port(s, "web"));
            try (HeadlessChromium page = browser(pageUrl(s))) {
                await().atMost(LIVE).untilAsserted(() -> assertThat(states(page))
                        .containsExactly(Map.entry(a.address(), "UP"), Map.entry(b.address(), "UP"),
                                Map.entry(c.address(), "UP"), Map.entry(d.address(), "UP")));
                assertThat(page.evaluate("document.querySelector('tr[data-listener=web]').textContent"))
                        .asString().contains("127.0.0.1:0 (127.0.0.1:" + Proxies.port(s, "web") + ")");
                page.evaluate("window.notReloaded = true");
                // Rates and percentiles come from differences between polls: they appear after two or more.
                await().atMost(LIVE).untilAsserted(() -> {
                    assertThat(cell(page, a.address(), "rate")).matches("[0-9.]+").isNotEqualTo("0.00");
                    assertThat(cell(page, a.address(), "p50")).endsWith("ms");
                    assertThat(cell(page, a.address(), "p99")).endsWith("ms");
                });
                assertThat(page.evaluate("document.querySelector('" + row(a.address()) + " polyline')"
                        + ".getAttribute('points') !== ''")).as("a sparkline").isEqualTo(true);
                assertThat(page.evaluate("document.getElementById('writes').textContent"))
                        .isEqualTo("no token needed for changes");
                assertThat(page.evaluate("document.getElementById('token').offsetParent === null"))
                        .as("no token field when none is needed").isEqualTo(true);

                b.stop();
                await().atMost(LIVE).untilAsserted(() -> assertThat(states(page))
                        .containsEntry(b.address(), "DOWN").containsEntry(a.address(), "UP"));
                assertThat(page.evaluate("window.notReloaded")).as("updated in place, not reloaded").isEqualTo(true);

                page.click(row(c.address()) + " button[data-action=drain]");
                await().atMost(LIVE).untilAsserted(() -> assertThat(states(page)).containsEntry(c.address(), "DRAINING"));
                assertThat(api(s)).contains("\"address\":\"" + c.address() + "\",\"state\":\"draining\"");
                await().atMost(LIVE).untilAsserted(() -> assertThat(page.evaluate(
                        "[...document.querySelectorAll('" + row(c.address()) + " button')].map(b => b.textContent)"))
                        .isEqualTo(List.of("Disable", "Enable")));
                assertThat(page.evaluate("window.notReloaded")).isEqualTo(true);
                screenshotIfAsked(page);
            } finally {
                traffic.shutdownNow();
            }
        }
    }

    @Test
    void withATokenTheButtonsNeedIt() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "s3cret\n");
        try (Backend a = Backend.start("a"); Backend b = Backend.start("b");
             Sluice s = Proxies.start(config(List.of(a, b), token));
             HeadlessChromium page = browser(pageUrl(s))) {
            // Reads need no token: the rows are there, but no buttons until a token is known.
            await().atMost(LIVE).untilAsserted(() -> assertThat(states(page))
                    .containsExactly(Map.entry(a.address(), "UP"), Map.entry(b.address(), "UP")));
            assertThat(page.evaluate("document.getElementById('writes').textContent")).asString().startsWith("read-only");
            assertThat(buttons(page)).isZero();

            // A wrong token typed into the field: the buttons show, the server refuses, nothing changes.
            page.evaluate("document.getElementById('token').value = 'wrong'");
            page.click("#tokenForm button[type=submit]");
            await().atMost(LIVE).until(() -> buttons(page) == 4);
            page.click(row(b.address()) + " button[data-action=drain]");
            await().atMost(LIVE).untilAsserted(() -> assertThat(page.evaluate("document.getElementById('msg').textContent"))
                    .asString().contains("refused"));
            assertThat(api(s)).contains("\"address\":\"" + b.address() + "\",\"state\":\"up\"");

            // The right one in the URL's fragment: taken, stored for the tab, and removed from the address bar.
            page.navigate(pageUrl(s) + "#token=s3cret");
            await().atMost(LIVE).until(() -> "".equals(page.evaluate("location.hash")));
            assertThat(page.evaluate("sessionStorage.getItem('sluice.token')")).isEqualTo("s3cret");
            page.click(row(a.address()) + " button[data-action=drain]");
            await().atMost(LIVE).untilAsserted(() -> assertThat(states(page)).containsEntry(a.address(), "DRAINING"));
            assertThat(api(s)).contains("\"address\":\"" + a.address() + "\",\"state\":\"draining\"");

            // Forget: back to read-only.
            page.click("#forget");
            await().atMost(LIVE).until(() -> buttons(page) == 0);
            assertThat(page.evaluate("sessionStorage.getItem('sluice.token')")).isNull();
        }
    }

    private static void screenshotIfAsked(HeadlessChromium page) throws Exception {
        String target = System.getProperty("sluice.screenshot", System.getenv("SLUICE_SCREENSHOT"));
        if (target == null || target.isBlank()) {
            return;
        }
        // Let the sparklines cover about three minutes before taking the picture.
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> ((Number) page.evaluate(
                "document.querySelector('tr[data-server] polyline').getAttribute('points').split(' ').length"))
                .intValue() >= 170);
        Path out = Path.of(target).toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.write(out, page.screenshot());
    }
}
