package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric the Grafana dashboard and the alert rules query is one the README documents and a running
 * Sluice serves: started here with an HTTP, a TCP and a TLS listener, a health-checked cluster and real traffic
 * (including a 5xx, a plaintext client on the TLS port), then scraped.
 */
class MonitoringMetricsTest {
    private static final Pattern SAMPLE_NAME = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);
    private static final Pattern DOCUMENTED = Pattern.compile("`([a-z][a-z0-9_]*)`");
    private static final Pattern DOCUMENTED_FAMILY = Pattern.compile("`([a-z][a-z0-9_]*_)\\*`");

    private static HttpServer backend;
    private static Sluice sluice;
    private static Set<String> served;

    @BeforeAll
    static void runSluiceWithTraffic(@TempDir Path dir) throws Exception {
        backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        backend.createContext("/", exchange -> {
            int status = exchange.getRequestURI().getPath().equals("/fail") ? 500 : 200;
            byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        backend.start();
        TestCertificates.Ca ca = TestCertificates.newCa("Monitoring Test CA");
        Path[] pem = ca.server("localhost").writePem(dir, "localhost");
        sluice = Proxies.start("""
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                  - { name: raw, bind: "127.0.0.1:0", protocol: tcp, cluster: app }
                  - name: secure
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    tls: { certificates: [ { cert: "%s", key: "%s" } ] }
                clusters:
                  - name: app
                    health_check: { type: http, path: /healthz, interval: 500ms, timeout: 400ms }
                    outlier_detection: { consecutive_failures: 5 }
                    servers: [ { address: "127.0.0.1:%d" } ]
                """.formatted(pem[0], pem[1], backend.getAddress().getPort()));

        HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        int web = Proxies.port(sluice, "web");
        for (String path : new String[] {"/", "/", "/fail"}) {
            plain.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web + path)).build(),
                    HttpResponse.BodyHandlers.discarding());
        }
        HttpClient tls = HttpClient.newBuilder().sslContext(trusting(ca)).connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> viaTls = tls.send(HttpRequest.newBuilder(URI.create("https://localhost:"
                + Proxies.port(sluice, "secure") + "/")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(viaTls.statusCode()).isEqualTo(200);
        try (Socket s = Proxies.connect(Proxies.port(sluice, "raw"))) {
            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(Proxies.readAll(s.getInputStream())).startsWith("HTTP/1.1 200");
        }
        try (Socket s = Proxies.connect(Proxies.port(sluice, "secure"))) {
            s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Proxies.readAll(s.getInputStream()); // closed as not_tls
        }
        Set<String> wanted = queried().keySet();
        try {
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                served = sampleNames(Proxies.admin(sluice, "/metrics").body());
                return served.containsAll(wanted);
            });
        } catch (ConditionTimeoutException e) {
            // everyQueriedMetricIsServed names what is missing, and where it is queried
        }
    }

    @AfterAll
    static void stop() {
        if (sluice != null) {
            sluice.close();
        }
        if (backend != null) {
            backend.stop(0);
        }
    }

    @Test
    void everyQueriedMetricIsServed() throws Exception {
        Map<String, Set<String>> queried = queried();
        Map<String, Set<String>> missing = new TreeMap<>(queried);
        missing.keySet().removeAll(served);
        assertThat(missing).as("queried but not in /metrics (name -> where)").isEmpty();
        assertThat(queried.keySet()).as("the check sees the dashboard's metrics").contains(
                "sluice_http_request_duration_seconds_bucket", "sluice_tls_certificate_expiry_timestamp_seconds",
                "sluice_server_up", "sluice_config_last_reload_timestamp_seconds");
    }

    @Test
    void everyQueriedMetricIsDocumented() throws Exception {
        String readme = Files.readString(DeployFiles.path("README.md"), StandardCharsets.UTF_8);
        Set<String> documented = matches(DOCUMENTED, readme);
        Set<String> families = matches(DOCUMENTED_FAMILY, readme);
        Map<String, Set<String>> undocumented = new TreeMap<>();
        queried().forEach((name, where) -> {
            String base = name.replaceFirst("_(bucket|sum|count)$", "");
            boolean ok = documented.contains(name) || documented.contains(base)
                    || families.stream().anyMatch(name::startsWith);
            if (!ok) {
                undocumented.put(name, where);
            }
        });
        assertThat(undocumented).as("queried but not in the README's metric tables").isEmpty();
    }

    /** Metric name -> the queries that read it. */
    private static Map<String, Set<String>> queried() throws IOException {
        Map<String, Set<String>> names = new TreeMap<>();
        Monitoring.dashboardQueries().forEach((where, expr) -> PromQl.metricNames(expr)
                .forEach(n -> names.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard " + where)));
        Monitoring.variableMetrics().forEach(n -> names.computeIfAbsent(n, k -> new TreeSet<>()).add("dashboard variable"));
        Monitoring.alertExpressions().forEach((alert, expr) -> PromQl.metricNames(expr)
                .forEach(n -> names.computeIfAbsent(n, k -> new TreeSet<>()).add("alert " + alert)));
        return names;
    }

    private static Set<String> sampleNames(String exposition) {
        return matches(SAMPLE_NAME, exposition);
    }

    private static Set<String> matches(Pattern p, String text) {
        Set<String> found = new TreeSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    private static SSLContext trusting(TestCertificates.Ca ca) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ca.trustStore());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
