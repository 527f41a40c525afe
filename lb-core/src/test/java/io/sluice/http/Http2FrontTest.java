package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Cleartext HTTP/2 on an HTTP listener, driven by curl and h2load, to HTTP/1.1 backends. */
class Http2FrontTest {

    static String config(String a, String b, String extra) {
        return """
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                %s
                clusters:
                  - { name: app, algorithm: round_robin, servers: [ { address: "%s" }, { address: "%s" } ] }
                """.formatted(extra, a, b);
    }

    static Result run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    record Result(int exit, String out, String err) {
    }

    @Test
    void curlPriorKnowledgeIsServedAndCountedAsHttp2() throws Exception {
        Path curl = ExternalTool.require("curl", "curl").path();
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            int port = Proxies.port(s, "web");
            for (int i = 0; i < 4; i++) {
                Result r = run(List.of(curl.toString(), "-sS", "--http2-prior-knowledge", "-w", "\n%{http_version} %{http_code}",
                        "http://127.0.0.1:" + port + "/s/" + i));
                assertThat(r.exit()).as(r.err()).isZero();
                assertThat(r.out()).matches("(?s)[ab] GET /s/" + i + "\n2 200");
            }
            assertThat(a.requests.size() + b.requests.size()).isEqualTo(4);
            // Connection-specific headers never reach the servers, and the request is HTTP/1.1 with a Host.
            HttpBackend.Request first = a.requests.get(0);
            assertThat(first.version()).isEqualTo("HTTP/1.1");
            assertThat(first.header("host")).isEqualTo("127.0.0.1:" + port);
            assertThat(first.headers().keySet()).noneMatch(k -> k.startsWith("x-http2"));

            Result one = run(List.of(curl.toString(), "-sS", "--http2-prior-knowledge", "-d", "hello",
                    "http://127.0.0.1:" + port + "/post"));
            assertThat(one.out()).matches("[ab] POST /post");

            // Upgrade: h2c is not done yet: the request is served in HTTP/1.1 and the upgrade is not forwarded.
            Result upgrade = run(List.of(curl.toString(), "-sS", "--http2", "-w", "\n%{http_version}",
                    "http://127.0.0.1:" + port + "/up"));
            assertThat(upgrade.out()).matches("(?s)[ab] GET /up\n1.1");
            HttpBackend.Request up = java.util.stream.Stream.concat(a.requests.stream(), b.requests.stream())
                    .filter(q -> q.uri().equals("/up")).findFirst().orElseThrow();
            assertThat(up.header("upgrade")).isNull();
            assertThat(up.header("http2-settings")).isNull();

            Result h1 = run(List.of(curl.toString(), "-sS", "--http1.1", "http://127.0.0.1:" + port + "/one"));
            assertThat(h1.out()).matches("[ab] GET /one");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String m = Proxies.admin(s, "/metrics").body();
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                        + "protocol=\"http2\",route=\"default\"}")).isEqualTo(5);
                assertThat(sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                        + "protocol=\"http1\",route=\"default\"}")).isEqualTo(2);
            });
        }
    }

    @Test
    void h2loadRequestsAllSucceed() throws Exception {
        Path h2load = ExternalTool.require("h2load", "nghttp2-client").path();
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            int port = Proxies.port(s, "web");
            Result r = run(List.of(h2load.toString(), "-n", "400", "-c", "4", "-m", "16",
                    "http://127.0.0.1:" + port + "/load"));
            assertThat(r.exit()).as(r.out() + r.err()).isZero();
            assertThat(r.out()).contains("400 succeeded, 0 failed, 0 errored");
            assertThat(r.out()).contains("status codes: 400 2xx");
            assertThat(a.requests).isNotEmpty();
            assertThat(b.requests).isNotEmpty();
        }
    }

    /** Per-request balancing: the streams of one client connection go to both servers. */
    @Test
    void streamsOfOneConnectionSpreadOverServers() throws Exception {
        Path h2load = ExternalTool.require("h2load", "nghttp2-client").path();
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"));
             Sluice s = Proxies.start(config(a.address(), b.address(), ""))) {
            Result r = run(List.of(h2load.toString(), "-n", "40", "-c", "1", "-m", "20",
                    "http://127.0.0.1:" + Proxies.port(s, "web") + "/spread"));
            assertThat(r.out()).as(r.err()).contains("40 succeeded, 0 failed, 0 errored");
            assertThat(a.requests).hasSizeGreaterThanOrEqualTo(10);
            assertThat(b.requests).hasSizeGreaterThanOrEqualTo(10);
        }
    }
}
