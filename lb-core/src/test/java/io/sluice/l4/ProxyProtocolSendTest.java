package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Haproxy;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code send_proxy_protocol} on a TCP relay, checked by a real HAProxy that {@code accept-proxy}s and answers with
 * the client address it was told.
 */
class ProxyProtocolSendTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private Haproxy reportingHaproxy() throws Exception {
        return resources.keep(Haproxy.start(dir, "http", """
                frontend report
                    bind 127.0.0.1:%PORT% accept-proxy
                    http-request return status 200 content-type text/plain lf-string "src=%[src]"
                """));
    }

    private Sluice sluice(String version, int server, String listenerOptions) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app%s }
                clusters:
                  - name: app
                    send_proxy_protocol: %s
                    servers: [ { address: "127.0.0.1:%d" } ]
                """.formatted(listenerOptions, version, server)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"http", "tcp"})
    void v2HealthChecksSendALocalHeader(String type) throws Exception {
        // HAProxy with accept-proxy refuses a connection without a header: an http check passes only with one.
        Haproxy haproxy = reportingHaproxy();
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app }
                clusters:
                  - name: app
                    send_proxy_protocol: v2
                    health_check: { type: %s, path: /, interval: 200ms, timeout: 200ms, rise: 1, fall: 1, initial_state: down }
                    servers: [ { address: "127.0.0.1:%d" } ]
                """.formatted(type, haproxy.port())));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(s.cluster("app").servers().get(0).state()).as(haproxy.output()).isEqualTo("up"));
    }

    private static String get(String from, int port, String prefix) throws IOException {
        return Proxies.sendFrom(from, port, prefix + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void theServerSeesTheClient(String version) throws Exception {
        Haproxy haproxy = reportingHaproxy();
        Sluice s = sluice(version, haproxy.port(), "");
        // Sluice connects from 127.0.0.1; the client is 127.0.0.2, known to HAProxy only through the header.
        String answer = get("127.0.0.2", Proxies.port(s, "front"), "");
        assertThat(answer).as(haproxy.output()).startsWith("HTTP/1.1 200").endsWith("src=127.0.0.2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void aHeaderSluiceReadIsSentOn(String version) throws Exception {
        Haproxy haproxy = reportingHaproxy();
        Sluice s = sluice(version, haproxy.port(),
                ", proxy_protocol: { accept: true, trusted: [\"127.0.0.1/32\"] }");
        String answer = get("127.0.0.1", Proxies.port(s, "front"), "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n");
        assertThat(answer).as(haproxy.output()).endsWith("src=203.0.113.7");
    }
}
