package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * {@code http.trusted_proxies}: a client outside it cannot choose the address the server is told (its
 * forwarding headers are replaced); a trusted proxy's are added to. Real sockets from 127.0.0.1 and 127.0.0.2.
 */
class TrustedProxiesTest {
    @AutoClose
    final Resources resources = new Resources();

    private static final String FORGED = "X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: https\r\n"
            + "X-Forwarded-Host: forged.example\r\nForwarded: for=198.51.100.1\r\n";

    private HttpBackend backend() throws IOException {
        return resources.keep(new HttpBackend("a", HttpBackend.sayName("a")));
    }

    private Sluice sluice(HttpBackend backend, String http, String listenerExtra) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { forwarded: true%s }
                %s
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                """.formatted(http, listenerExtra, backend.address())));
    }

    private static HttpBackend.Request get(HttpBackend backend, String from, int port, String prefix, String headers)
            throws IOException {
        String answer = Proxies.sendFrom(from, port,
                prefix + "GET /who HTTP/1.1\r\nHost: web.example\r\n" + headers + "Connection: close\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 200");
        return backend.last();
    }

    @Test
    void byDefaultNobodyIsTrustedAndForgedHeadersAreReplaced() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice(backend, "", "");
        HttpBackend.Request seen = get(backend, "127.0.0.1", Proxies.port(s, "web"), "", FORGED);
        assertThat(seen.all("x-forwarded-for")).containsExactly("127.0.0.1");
        assertThat(seen.header("x-forwarded-proto")).isEqualTo("http");
        assertThat(seen.header("x-forwarded-host")).isEqualTo("web.example");
        assertThat(seen.all("forwarded")).containsExactly("for=127.0.0.1;host=\"web.example\";proto=http");
    }

    @Test
    void aTrustedProxyIsAddedToAndOthersOnTheSameListenerAreReplaced() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice(backend, ", trusted_proxies: [\"127.0.0.2/32\"]", "");
        int port = Proxies.port(s, "web");
        HttpBackend.Request proxy = get(backend, "127.0.0.2", port, "", FORGED);
        assertThat(proxy.header("x-forwarded-for")).isEqualTo("198.51.100.1, 127.0.0.2");
        // The proxy in front terminated TLS and says so; it also knows the host the client asked for.
        assertThat(proxy.header("x-forwarded-proto")).isEqualTo("https");
        assertThat(proxy.header("x-forwarded-host")).isEqualTo("forged.example");
        assertThat(proxy.header("forwarded"))
                .isEqualTo("for=198.51.100.1, for=127.0.0.2;host=\"web.example\";proto=http");

        HttpBackend.Request other = get(backend, "127.0.0.1", port, "", FORGED);
        assertThat(other.all("x-forwarded-for")).containsExactly("127.0.0.1");
        assertThat(other.header("x-forwarded-proto")).isEqualTo("http");
    }

    @Test
    void http2ClientsToo() throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        HttpBackend backend = backend();
        Sluice s = sluice(backend, ", trusted_proxies: [\"127.0.0.2\"]", "");
        String url = "http://127.0.0.1:" + Proxies.port(s, "web") + "/h2";
        for (String from : new String[] {"127.0.0.1", "127.0.0.2"}) {
            ExternalTool.Run r = curl.run("", "-sS", "--http2-prior-knowledge", "--interface", from,
                    "-H", "X-Forwarded-For: 198.51.100.1", "-w", "\n%{http_version}", url);
            assertThat(r.output()).as(r.output()).isEqualTo("a GET /h2\n2");
            String expected = from.equals("127.0.0.1") ? "127.0.0.1" : "198.51.100.1, 127.0.0.2";
            assertThat(backend.last().all("x-forwarded-for")).containsExactly(expected);
        }
    }

    /**
     * With the PROXY protocol the trust check is on the client the header names, not on the balancer that sent
     * it: a balancer speaking the PROXY protocol relays the client's bytes, its HTTP headers included, untouched,
     * so they are the named client's own. Trusting the balancer's socket address would pass a forged
     * X-Forwarded-For through an L4 balancer that is listed for both.
     */
    @Test
    void behindThePROXYProtocolTheNamedClientIsChecked() throws Exception {
        HttpBackend backend = backend();
        Sluice s = sluice(backend, ", trusted_proxies: [\"127.0.0.1/32\", \"10.0.0.0/8\"]",
                "    proxy_protocol: { accept: true, trusted: [\"127.0.0.1/32\"] }");
        int port = Proxies.port(s, "web");
        HttpBackend.Request client = get(backend, "127.0.0.1", port,
                "PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n", FORGED);
        assertThat(client.all("x-forwarded-for")).containsExactly("203.0.113.7");
        assertThat(client.header("x-forwarded-proto")).isEqualTo("http");

        HttpBackend.Request proxy = get(backend, "127.0.0.1", port,
                "PROXY TCP4 10.1.2.3 127.0.0.1 5555 80\r\n", FORGED);
        assertThat(proxy.header("x-forwarded-for")).isEqualTo("198.51.100.1, 10.1.2.3");
        assertThat(proxy.header("x-forwarded-proto")).isEqualTo("https");
    }
}
