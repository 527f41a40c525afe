package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The HTTP path on each Netty transport: keep-alive, a streamed body each way, and a client that leaves early. */
class HttpTransportsTest {
    private static final int SIZE = 16 << 20;

    private static HttpBackend backend() throws Exception {
        return new HttpBackend("a", (req, out, s) -> {
            if (req.method().equals("POST")) {
                MessageDigest d = Patterns.sha256();
                byte[] body = req.readBody();
                d.update(body);
                HttpBackend.respond(out, 200, "text/plain", HexFormat.of().formatHex(d.digest())
                        .getBytes(StandardCharsets.US_ASCII));
            } else if (req.uri().equals("/big")) {
                HttpBackend.respond(out, 200, "application/octet-stream", Patterns.chunk(SIZE));
            } else {
                HttpBackend.respond(out, 200, "text/plain", req.uri().getBytes(StandardCharsets.US_ASCII));
            }
        });
    }

    private static Sluice proxy(String transport, HttpBackend b) throws Exception {
        Sluice s = Proxies.startHttp(transport, b.address());
        assertThat(s.transport().name()).isEqualTo(transport);
        return s;
    }

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "nio", "io_uring"})
    void requestsAndBodiesOnEveryTransport(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (HttpBackend b = backend(); Sluice s = proxy(transport, b)) {
            try (RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
                for (int i = 0; i < 5; i++) {
                    assertThat(c.get("/" + i).text()).isEqualTo("/" + i);
                }
                byte[] up = Patterns.chunk(SIZE);
                c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: " + SIZE + "\r\n\r\n");
                c.out.write(up);
                c.out.flush();
                MessageDigest d = Patterns.sha256();
                assertThat(c.read().text()).isEqualTo(HexFormat.of().formatHex(d.digest(up)));
                assertThat(c.get("/big").body()).isEqualTo(up);
            }
            assertThat(b.accepted()).isEqualTo(1);
        }
    }

    /**
     * Responses after which the connection closes (the request said {@code Connection: close}) arrive whole and are
     * followed by the connection's end, small and large, and a local answer too: on native transports the last
     * segment is held back for the FIN to join it ({@code FinWithLastSegment}), which must delay nothing.
     */
    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "nio", "io_uring"})
    void responsesBeforeACloseArriveWholeAndThenTheEnd(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (HttpBackend b = backend(); Sluice s = proxy(transport, b)) {
            int port = Proxies.port(s, "web");
            for (String path : new String[] {"/small", "/big"}) {
                try (RawHttp c = new RawHttp(port)) {
                    c.send("GET " + path + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
                    RawHttp.Response r = c.read();
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(path.equals("/big") ? Patterns.chunk(SIZE)
                            : path.getBytes(StandardCharsets.US_ASCII));
                    assertThat(c.closedByPeer()).as(path).isTrue();
                }
            }
            try (RawHttp c = new RawHttp(port)) {
                // Refused by Sluice itself, before any server: two Host headers.
                c.send("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n");
                assertThat(c.read().status()).isEqualTo(400);
                assertThat(c.closedByPeer()).isTrue();
            }
        }
    }

    /** A client that reads the head of a big response and leaves: the server connection is dropped, not pooled. */
    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "nio", "io_uring"})
    void clientLeavingMidResponseFreesTheServerConnection(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        // Here the client's channel has reads paused and waits only for writability: the case Netty 4.2.18's
        // epoll registration loses (README, runtime.transport). About once in ten full runs the proxy never
        // saw this client leave; auto never picks epoll, and a known transport bug is no finding about Sluice.
        assumeFalse(transport.equals("epoll"), "epoll: Netty 4.2.18 can lose the wait for writability of a"
                + " connection with reads paused (README, runtime.transport), so a client leaving mid-response"
                + " may go unnoticed; auto never picks epoll");
        try (HttpBackend b = backend(); Sluice s = proxy(transport, b)) {
            int port = Proxies.port(s, "web");
            try (RawHttp quitter = new RawHttp(port)) {
                quitter.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
                InputStream in = quitter.in();
                assertThat(HttpBackend.readLine(in)).startsWith("HTTP/1.1 200");
            }
            var server = s.cluster("app").servers().get(0);
            await().atMost(Duration.ofSeconds(10)).until(() -> server.activeRequests() == 0);
            try (RawHttp c = new RawHttp(port)) {
                assertThat(c.get("/after").text()).isEqualTo("/after");
            }
            // Only one connection existed: had it gone back to the pool, the next request would have used it.
            assertThat(b.accepted()).isEqualTo(2);
        }
    }
}
