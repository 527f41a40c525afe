package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** WebSocket (or any Upgrade): after the 101, the proxy relays bytes both ways like the L4 path. */
class UpgradeTest {

    /** Completes a WebSocket handshake, then echoes raw bytes until the proxy half-closes. */
    static HttpBackend.Handler websocketEcho() {
        return (req, out, s) -> {
            if (!"websocket".equalsIgnoreCase(req.header("upgrade"))) {
                HttpBackend.respond(out, 400, "text/plain", "not an upgrade".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String accept;
            try {
                accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
                        (req.header("sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                .getBytes(StandardCharsets.US_ASCII)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            echoUntilEnd(s, out);
        };
    }

    /** What the tunnel's server does after its 101: echoes until the proxy half-closes, then half-closes too. */
    private static void echoUntilEnd(java.net.Socket s, OutputStream out) throws java.io.IOException {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            out.flush();
        }
        s.shutdownOutput();
    }

    /** Three round trips of {@code frame} through the tunnel, then the client's half-close comes back as the end. */
    private static void assertEchoedThenEnded(RawHttp c, InputStream in, byte[] frame) throws Exception {
        for (int round = 0; round < 3; round++) {
            c.out.write(frame);
            c.out.flush();
            assertThat(in.readNBytes(frame.length)).isEqualTo(frame);
        }
        c.socket.shutdownOutput();
        assertThat(in.read()).isEqualTo(-1);
    }

    private static Sluice proxyTo(HttpBackend ws, String idleTimeout) throws Exception {
        return Proxies.start("""
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, idle_timeout: %s }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(idleTimeout, ws.address()));
    }

    @Test
    void websocketHandshakeThenBytesAreEchoedThroughTheTunnel() throws Exception {
        try (HttpBackend ws = new HttpBackend("ws", websocketEcho());
             Sluice s = proxyTo(ws, "10m");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            RawHttp.Response r = c.send("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                    + "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.header("upgrade")).isEqualTo("websocket");
            assertThat(r.header("connection")).isEqualTo("upgrade");
            assertThat(r.header("sec-websocket-accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
            assertThat(ws.last().header("upgrade")).isEqualTo("websocket");
            assertThat(ws.last().header("sec-websocket-key")).isEqualTo("dGhlIHNhbXBsZSBub25jZQ==");

            // Bytes that would be invalid HTTP: the codecs are gone.
            byte[] frame = {(byte) 0x81, (byte) 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1};
            assertEchoedThenEnded(c, c.in(), frame);
        }
    }

    @Test
    void upgradeHeaderWithoutConnectionUpgradeIsAPlainRequest() throws Exception {
        try (HttpBackend ws = new HttpBackend("ws", websocketEcho());
             Sluice s = proxyTo(ws, "10m");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            RawHttp.Response r = c.send("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(ws.last().header("upgrade")).isNull();
        }
    }

    @Test
    void anUpgradedConnectionWithNoTrafficClosesAfterTheListenersIdleTimeout() throws Exception {
        try (HttpBackend ws = new HttpBackend("ws", websocketEcho());
             Sluice s = proxyTo(ws, "1s");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            RawHttp.Response r = c.send("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Sec-WebSocket-Version: 13\r\n\r\n").read();
            assertThat(r.status()).isEqualTo(101);
            // Traffic keeps it open past the timeout...
            byte[] frame = {(byte) 0x81, (byte) 0x80, 1, 2, 3, 4};
            long until = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1500);
            while (System.nanoTime() < until) {
                c.out.write(frame);
                c.out.flush();
                assertThat(c.in().readNBytes(frame.length)).isEqualTo(frame);
                Thread.sleep(100);
            }
            // ...and silence closes it (the read blocks until the proxy closes, bounded by the socket timeout).
            c.socket.setSoTimeout(10_000);
            assertThat(c.in().read()).isEqualTo(-1);
        }
    }

    /**
     * A protocol other than WebSocket (the Kubernetes API server's exec and port-forward upgrade to SPDY/3.1): the
     * server's 101 carries no Sec-WebSocket-Accept, and the server speaks first, its first bytes in the same write
     * as the 101's head.
     */
    static HttpBackend.Handler spdyGreeterThenEcho() {
        return (req, out, s) -> {
            if (!"SPDY/3.1".equals(req.header("upgrade"))) {
                HttpBackend.respond(out, 400, "text/plain", "not an upgrade".getBytes(StandardCharsets.UTF_8));
                return;
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n"
                    + "HELLO\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            echoUntilEnd(s, out);
        };
    }

    @Test
    void anUpgradeToAnotherProtocolTunnelsAndKeepsTheServersFirstBytes() throws Exception {
        try (HttpBackend spdy = new HttpBackend("spdy", spdyGreeterThenEcho());
             Sluice s = proxyTo(spdy, "10m");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            c.send("POST /api/v1/namespaces/default/pods/web/exec?command=sh HTTP/1.1\r\nHost: a\r\n"
                    + "Upgrade: SPDY/3.1\r\nConnection: Upgrade\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                    + "Content-Length: 0\r\n\r\n");
            InputStream in = c.in();
            String head = readHead(in);
            assertThat(head).startsWith("HTTP/1.1 101 ").containsIgnoringCase("upgrade: SPDY/3.1\r\n")
                    .doesNotContainIgnoringCase("content-length").doesNotContainIgnoringCase("transfer-encoding");
            assertThat(spdy.last().header("upgrade")).isEqualTo("SPDY/3.1");
            // The greeting the server sent with its 101 comes first, as sent.
            assertThat(new String(in.readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("HELLO\r\n");
            // Then bytes both ways that no HTTP parser would take (a SPDY control frame's first bytes).
            byte[] frame = {(byte) 0x80, 0x03, 0x00, 0x01, 0x01, 0x00, 0x00, 0x0a, 'G', 'E', 'T', ' ', '/', ' '};
            assertEchoedThenEnded(c, in, frame);
        }
    }

    @Test
    void anUpgradeAskedWithABodyIsServedWithoutIt() throws Exception {
        // The switch would come after a body the server may not have read: the request is served in HTTP/1.1.
        try (HttpBackend spdy = new HttpBackend("spdy", spdyGreeterThenEcho());
             Sluice s = proxyTo(spdy, "10m");
             RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            RawHttp.Response r = c.send("POST /exec HTTP/1.1\r\nHost: a\r\nUpgrade: SPDY/3.1\r\n"
                    + "Connection: Upgrade\r\nContent-Length: 5\r\n\r\nhello").read();
            assertThat(r.status()).isEqualTo(400);
            assertThat(spdy.last().header("upgrade")).isNull();
            assertThat(spdy.last().header("connection")).isNull();
        }
    }

    /** The response head up to and with its empty line, read byte by byte so nothing after it is taken. */
    private static String readHead(InputStream in) throws java.io.IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("closed after: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }
}
