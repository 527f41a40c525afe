package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.Sluice;
import io.sluice.cli.Main;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.ListenerConfig;
import io.sluice.testing.Proxies;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The routing table (first match wins), its effects through the proxy, and {@code sluice route}. */
class RoutingTest {
    static final String CONFIG = """
            admin: { enabled: false }
            listeners:
              - name: web
                bind: "127.0.0.1:0"
                protocol: http
                cluster: app
                routes:
                  - name: api-v2
                    match: { host: "api.example.com", path_prefix: "/v2/" }
                    cluster: api
                    prefix_rewrite: "/"
                  - name: wildcard-static
                    match: { host: "*.static.example.com" }
                    cluster: static
                  - name: health
                    match: { path_exact: "/healthz" }
                    cluster: static
                  - name: numeric
                    match: { path_regex: "/items/[0-9]+" }
                    cluster: api
                  - name: deletes
                    match: { method: DELETE }
                    cluster: api
                  - name: canary
                    match: { header: { name: "x-canary", exact: "1" } }
                    cluster: canary
                  - name: beta-user
                    match: { header: { name: "cookie", regex: ".*beta=yes.*" } }
                    cluster: canary
                  - name: debug
                    match: { header: { name: "x-debug", present: true } }
                    cluster: canary
            clusters:
              - { name: app, servers: [ { address: "%s" } ] }
              - { name: api, servers: [ { address: "%s" } ] }
              - { name: static, servers: [ { address: "%s" } ] }
              - { name: canary, servers: [ { address: "%s" } ] }
            """;

    private static RouteTable table() throws ConfigException {
        ListenerConfig l = ConfigLoader.parse(CONFIG.formatted("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3",
                "127.0.0.1:4")).listeners().get(0);
        return RouteTable.explain(l);
    }

    @ParameterizedTest(name = "{0} {1}{2} [{3}] -> {4}")
    @CsvSource(delimiter = ';', textBlock = """
            GET;    api.example.com;        /v2/users;      ;                   api-v2
            GET;    API.Example.COM:8080;   /v2/users?x=1;  ;                   api-v2
            GET;    api.example.com;        /v1/users;      ;                   default
            GET;    other.example.com;      /v2/users;      ;                   default
            GET;    a.static.example.com;   /x;             ;                   wildcard-static
            GET;    a.b.static.example.com; /x;             ;                   wildcard-static
            GET;    static.example.com;     /x;             ;                   default
            GET;    any;                    /healthz;       ;                   health
            GET;    any;                    /healthz/more;  ;                   default
            GET;    any;                    /items/42;      ;                   numeric
            GET;    any;                    /items/42x;     ;                   default
            DELETE; any;                    /x;             ;                   deletes
            GET;    any;                    /x;             x-canary=1;         canary
            GET;    any;                    /x;             x-canary=2;         default
            GET;    any;                    /x;             'cookie=a=1; beta=yes'; beta-user
            GET;    any;                    /x;             x-debug=;           debug
            DELETE; api.example.com;        /v2/x;          x-canary=1;         api-v2
            """)
    void firstMatchingRouteWins(String method, String host, String path, String header, String expected)
            throws Exception {
        HttpRequest req = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.valueOf(method), path);
        req.headers().set("host", host);
        if (header != null) {
            int eq = header.indexOf('=');
            req.headers().add(header.substring(0, eq), header.substring(eq + 1));
        }
        assertThat(table().match(req).name()).isEqualTo(expected);
    }

    @Test
    void prefixRewriteReplacesTheMatchedPrefix() throws Exception {
        Route r = table().all().get(0);
        assertThat(r.rewrite("/v2/users?x=1")).isEqualTo("/users?x=1");
        assertThat(r.rewrite("/v2/")).isEqualTo("/");
    }

    @Test
    void requestsReachTheRoutesClusterWithRewrittenPathAndHeaderEdits() throws Exception {
        try (HttpBackend app = new HttpBackend("app", HttpBackend.sayName("app"));
             HttpBackend api = new HttpBackend("api", (req, out, s) -> {
                 req.readBody();
                 out.write(("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: secret/1.0\r\nX-Backend: api\r\n\r\nok")
                         .getBytes(StandardCharsets.US_ASCII));
                 out.flush();
             });
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - name: web
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         routes:
                           - name: api
                             match: { path_prefix: "/api/" }
                             cluster: api
                             prefix_rewrite: "/internal/"
                             max_body_size: 10
                             request_headers:
                               set: { X-Route: api }
                               add: { X-Added: "1" }
                               remove: [ X-Remove-Me ]
                             response_headers:
                               remove: [ Server ]
                               set: { X-Served-By: sluice }
                     clusters:
                       - { name: app, servers: [ { address: "%s" } ] }
                       - { name: api, servers: [ { address: "%s" } ] }
                     """.formatted(app.address(), api.address()));
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            assertThat(c.get("/other").text()).isEqualTo("app GET /other");

            RawHttp.Response r = c.send("GET /api/users?id=7 HTTP/1.1\r\nHost: a\r\nX-Remove-Me: 1\r\nX-Route: client\r\n\r\n")
                    .read();
            assertThat(r.text()).isEqualTo("ok");
            assertThat(r.header("server")).isNull();
            assertThat(r.header("x-served-by")).isEqualTo("sluice");
            assertThat(r.header("x-backend")).isEqualTo("api");
            HttpBackend.Request seen = api.last();
            assertThat(seen.uri()).isEqualTo("/internal/users?id=7");
            assertThat(seen.all("x-route")).containsExactly("api");
            assertThat(seen.header("x-added")).isEqualTo("1");
            assertThat(seen.headers()).doesNotContainKey("x-remove-me");

            // The route's own body limit applies (the listener has none).
            RawHttp.Response tooBig = c.send("POST /api/x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n").read();
            assertThat(tooBig.status()).isEqualTo(413);
        }
    }

    @Test
    void routeCommandPrintsTheRouteAndCluster(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("routes.yaml");
        Files.writeString(file, CONFIG.formatted("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"));
        assertThat(route(file.toString(), "--host", "api.example.com", "--path", "/v2/users"))
                .isEqualTo("listener web: route api-v2 -> cluster api (path sent as /users)\n");
        assertThat(route(file.toString(), "--host", "x", "--path", "/x", "--header", "x-canary=1"))
                .isEqualTo("listener web: route canary -> cluster canary\n");
        assertThat(route(file.toString(), "--host", "x", "--path", "/x", "--method", "DELETE"))
                .isEqualTo("listener web: route deletes -> cluster api\n");
        assertThat(route(file.toString(), "--host", "x", "--path", "/nothing"))
                .isEqualTo("listener web: route default -> cluster app\n");
        assertThat(Main.execute(new String[] {"route", file.toString(), "--host", "x"}, nullStream(), nullStream()))
                .isEqualTo(2);
    }

    private static String route(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "route";
        System.arraycopy(args, 0, all, 1, args.length);
        int code = Main.execute(all, new PrintStream(out, true, StandardCharsets.UTF_8), nullStream());
        assertThat(code).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static PrintStream nullStream() {
        return new PrintStream(java.io.OutputStream.nullOutputStream());
    }
}
