package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.net.ListenerStats;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestBackend;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every accepted connection is counted open once and closed once, however many stages admit it (a PROXY header
 * first, TLS before the protocol handler, HTTP/1.1 or HTTP/2 by ALPN, the TCP relay): with {@code max_connections:
 * 1} a connection counted twice would be refused, and the open count is back at zero once all have closed.
 */
class AdmissionCountTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private static final String GET = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    private static final String PROXY = "PROXY TCP4 10.1.2.3 127.0.0.1 40000 80\r\n";

    @Test
    void eachConnectionIsCountedOnceOnEveryPath() throws Exception {
        TestCertificates.Ca ca = TestCertificates.newCa("Admission Test CA");
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        Path[] cert = ca.server("localhost").writePem(dir, "localhost");
        HttpBackend web = resources.keep(new HttpBackend("a", HttpBackend.sayName("a")));
        TestBackend echo = resources.keep(TestBackend.start("echo", TestBackend.echo()));
        Sluice s = resources.keep(Proxies.start("""
                admin: { enabled: false }
                listeners:
                  - { name: plain, bind: "127.0.0.1:0", protocol: http, cluster: web, max_connections: 1 }
                  - { name: proxied, bind: "127.0.0.1:0", protocol: http, cluster: web, max_connections: 1,
                      proxy_protocol: { accept: true, trusted: ["127.0.0.1/32"] } }
                  - { name: tls, bind: "127.0.0.1:0", protocol: http, cluster: web, max_connections: 1,
                      tls: { certificates: [ { cert: "%1$s", key: "%2$s" } ] } }
                  - { name: h2, bind: "127.0.0.1:0", protocol: http, cluster: web, max_connections: 1,
                      tls: { certificates: [ { cert: "%1$s", key: "%2$s" } ] } }
                  - { name: tcp, bind: "127.0.0.1:0", cluster: echo, max_connections: 1 }
                  - { name: tcp-proxied, bind: "127.0.0.1:0", cluster: echo, max_connections: 1,
                      proxy_protocol: { accept: true, trusted: ["127.0.0.1/32"] } }
                clusters:
                  - { name: web, servers: [ { address: "%3$s" } ] }
                  - { name: echo, servers: [ { address: "%4$s" } ] }
                """.formatted(cert[0], cert[1], web.address(), echo.address())));

        for (int i = 0; i < 2; i++) {
            assertThat(exchange(plain(s, "plain"), GET)).startsWith("HTTP/1.1 200");
            assertThat(exchange(plain(s, "proxied"), PROXY + GET)).startsWith("HTTP/1.1 200");
            assertThat(curl(caFile, s, "tls", "--http1.1")).isEqualTo("1.1 200");
            closed(s, "tls"); // the client closes first: the next connection must not find this one still open
            assertThat(echo(plain(s, "tcp"), "", "hello")).isEqualTo("hello");
            assertThat(echo(plain(s, "tcp-proxied"), PROXY, "hello")).isEqualTo("hello");
            for (String name : new String[] {"plain", "proxied", "tcp", "tcp-proxied"}) {
                closed(s, name);
            }
        }
        // HTTP/2 once: a connection curl leaves is still counted open for a while (its FIN is not an end there).
        assertThat(curl(caFile, s, "h2", "--http2")).isEqualTo("2 200");
        for (String name : new String[] {"plain", "proxied", "tls", "h2", "tcp", "tcp-proxied"}) {
            ListenerStats stats = s.listener(name).stats();
            assertThat(stats.rejected()).as(name).isZero();
            assertThat(stats.total()).as(name).isEqualTo(name.equals("h2") ? 1 : 2);
        }
    }

    private static void closed(Sluice s, String listener) {
        ListenerStats stats = s.listener(listener).stats();
        await().atMost(Duration.ofSeconds(10)).until(() -> stats.active() == 0);
    }

    private static Socket plain(Sluice s, String listener) throws IOException {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), Proxies.port(s, listener));
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** One request over TLS, HTTP/2 or HTTP/1.1 as ALPN chose, on a connection of its own: curl's. */
    private static String curl(Path caFile, Sluice s, String listener, String version) throws Exception {
        int port = Proxies.port(s, listener);
        ExternalTool.Run r = ExternalTool.require("curl", "curl").run("", "-sS", version, "--cacert",
                caFile.toString(), "--resolve", "localhost:" + port + ":127.0.0.1", "-o", "/dev/null",
                "-w", "%{http_version} %{http_code}", "https://localhost:" + port + "/");
        return r.output();
    }

    /** Sends {@code text} and reads until the server closes. */
    private static String exchange(Socket socket, String text) throws IOException {
        try (socket) {
            socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return Proxies.readAll(socket.getInputStream());
        }
    }

    /** Sends {@code text} after {@code header}, half-closes, and reads what comes back. */
    private static String echo(Socket socket, String header, String text) throws IOException {
        try (socket) {
            OutputStream out = socket.getOutputStream();
            out.write((header + text).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
