package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.testing.Proxies;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code http.redirect_https} and the {@code http.hsts} value's grammar. */
class HttpsRedirectTest {

    @Test
    void plainListenerRedirectsEveryRequestToHttpsWithoutForwarding() throws Exception {
        try (HttpBackend backend = new HttpBackend("app", HttpBackend.sayName("app"))) {
            try (Sluice sluice = Proxies.start("""
                    admin: { enabled: false }
                    listeners:
                      - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app,
                          http: { redirect_https: true } }
                    clusters:
                      - { name: app, servers: [ { address: "%s" } ] }
                    """.formatted(backend.address()));
                 RawHttp c = new RawHttp(Proxies.port(sluice, "web"))) {
                c.out.write("GET /a/b?x=1 HTTP/1.1\r\nHost: Shop.Example.com:8080\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(301);
                assertThat(r.header("location")).isEqualTo("https://shop.example.com/a/b?x=1");
                // The connection stays usable: a redirect is an answer, not an error.
                c.out.write("GET /c HTTP/1.1\r\nHost: [::1]:80\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.read().header("location")).isEqualTo("https://[::1]/c");
                c.out.write("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(c.read().header("location")).isEqualTo("https://h/form");
            }
            assertThat(backend.requests).isEmpty();
        }
    }

    @Test
    void requestWithoutHostCannotBeRedirected() throws Exception {
        try (Sluice sluice = Proxies.start("""
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { redirect_https: true } }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """);
             RawHttp c = new RawHttp(Proxies.port(sluice, "web"))) {
            c.out.write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(c.read().status()).isEqualTo(400);
        }
    }

    @Test
    void hstsValueFollowsRfc6797AndNeedsTls() throws ConfigException {
        String yaml = """
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { hsts: "%s" },
                      tls: { certificates: [ { cert: /x.pem, key: /x.key } ] } }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """;
        assertThat(ConfigLoader.parse(yaml.formatted("max-age=31536000; includeSubDomains")).listeners().get(0)
                .http().hsts()).isEqualTo("max-age=31536000; includeSubDomains");
        assertThatThrownBy(() -> ConfigLoader.parse(yaml.formatted("1 year")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("listeners[0].http.hsts (line 2").hasMessageContaining("max-age=SECONDS");
        assertThatThrownBy(() -> ConfigLoader.parse("""
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { hsts: "max-age=60" } }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """)).hasMessageContaining("listeners[0].http.hsts (line 2").hasMessageContaining("needs tls");
    }

    @Test
    void redirectIsForThePlainListener() {
        assertThatThrownBy(() -> ConfigLoader.parse("""
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { redirect_https: true }
                    tls: { certificates: [ { cert: /x.pem, key: /x.key } ] }
                clusters:
                  - { name: app, servers: [ { address: "127.0.0.1:1" } ] }
                """)).hasMessageContaining("listeners[0].http.redirect_https (line 6").hasMessageContaining("has tls");
    }
}
