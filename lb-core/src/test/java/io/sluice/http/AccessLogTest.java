package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The access log: one line per request, written off the event loop, as text or JSON. */
class AccessLogTest {

    private static List<String> run(Path file, String format) throws Exception {
        try (HttpBackend b = new HttpBackend("a", HttpBackend.sayName("a"));
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - name: web
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         http: { access_log: { format: %s, path: "%s" } }
                         routes:
                           - { name: api, match: { path_prefix: "/api/" }, cluster: app, prefix_rewrite: "/" }
                     clusters:
                       - name: app
                         servers: [ { address: "%s" } ]
                     """.formatted(format, file, b.address()));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            assertThat(c.send("GET /api/x?q=\"1\" HTTP/1.1\r\nHost: shop\r\nX-Request-Id: r-1\r\n\r\n").read()
                    .status()).isEqualTo(200);
            assertThat(c.send("POST /p HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n\r\nhi").read()
                    .status()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file)
                    && Files.readAllLines(file).size() == 2);
            return Files.readAllLines(file);
        }
    }

    @Test
    void jsonLinesCarryTheRequestAsTheClientSentIt(@TempDir Path dir) throws Exception {
        List<String> lines = run(dir.resolve("access.json"), "json");
        assertThat(lines.get(0)).startsWith("{\"time\":\"").contains("\"client\":\"127.0.0.1\"")
                .contains("\"method\":\"GET\"").contains("\"uri\":\"/api/x?q=\\\"1\\\"\"")
                .contains("\"protocol\":\"HTTP/1.1\"").contains("\"status\":200").contains("\"route\":\"api\"")
                .contains("\"cluster\":\"app\"").contains("\"request_id\":\"r-1\"").contains("\"host\":\"shop\"")
                .endsWith("}");
        assertThat(lines.get(1)).contains("\"method\":\"POST\"").contains("\"route\":\"default\"");
    }

    @Test
    void textLinesFollowTheCommonLogFormat(@TempDir Path dir) throws Exception {
        List<String> lines = run(dir.resolve("access.log"), "text");
        assertThat(lines.get(0)).matches("127\\.0\\.0\\.1 - - \\[[^]]+] \"GET /api/x\\?q=\\\\x221\\\\x22 HTTP/1\\.1\" 200 "
                + "\\d+ \\d+\\.\\d{3} route=api cluster=app server=127\\.0\\.0\\.1:\\d+ id=r-1 host=shop");
    }
}
