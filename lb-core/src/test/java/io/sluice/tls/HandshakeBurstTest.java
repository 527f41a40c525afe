package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.ClientHellos;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many clients handshaking at once on a proxy with one event loop: their ClientHellos arrive together, so most of
 * them wait for their turn among the loop's heavy steps, holding their reads until it comes. Every one must still
 * complete its handshake (TLS 1.3 and 1.2 mixed, each on its own connection) and get its answer, while a client
 * already connected keeps being served in between.
 */
class HandshakeBurstTest {
    private static final int CLIENTS = 48;

    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("Burst Test CA");

    /** An HTTPS listener on a proxy with one event loop, so that every handshake of a burst meets on it. */
    private Sluice oneLoop(String provider, TlsFixture.Backend backend) throws Exception {
        Path[] files = TlsFixture.serverFiles(ca, dir, "burst", "localhost");
        return TlsFixture.start(dir, """
                runtime: { worker_threads: 1 }
                admin: { enabled: true, bind: "127.0.0.1:0" }
                listeners:
                  - name: https
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    tls: { provider: %s, alpn: [http/1.1], certificates: [ { cert: "%s", key: "%s" } ] }
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(provider, files[0], files[1], backend.address()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void everyHandshakeOfABurstCompletesAndIsServed(String provider) throws Exception {
        SSLContext client = TlsFixture.clientContext(ca, null);
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = oneLoop(provider, backend)) {
            int port = Proxies.port(s, "https");
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS + 1);
            try (SSLSocket established = open(client, port, "TLSv1.3")) {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> answers = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    String version = i % 2 == 0 ? "TLSv1.3" : "TLSv1.2";
                    answers.add(pool.submit(() -> {
                        go.await();
                        try (SSLSocket c = open(client, port, version)) {
                            return exchange(c, "close") + " " + c.getSession().getProtocol();
                        }
                    }));
                }
                Future<Integer> keptServed = pool.submit(() -> {
                    go.await();
                    int served = 0;
                    for (int i = 0; i < 20; i++) {
                        assertThat(exchange(established, "keep-alive")).startsWith("HTTP/1.1 200");
                        served++;
                    }
                    return served;
                });
                go.countDown();
                for (int i = 0; i < CLIENTS; i++) {
                    assertThat(answers.get(i).get(60, TimeUnit.SECONDS))
                            .startsWith("HTTP/1.1 200").endsWith(i % 2 == 0 ? "TLSv1.3" : "TLSv1.2");
                }
                assertThat(keptServed.get(60, TimeUnit.SECONDS)).isEqualTo(20);
            } finally {
                pool.shutdownNow();
            }
            String metrics = Proxies.admin(s, "/metrics").body();
            assertThat(Proxies.sample(metrics,
                    "sluice_tls_handshakes_total{listener=\"https\",result=\"success\",version=\"TLSv1.3\"}"))
                    .isEqualTo(CLIENTS / 2 + 1);
            assertThat(Proxies.sample(metrics,
                    "sluice_tls_handshakes_total{listener=\"https\",result=\"success\",version=\"TLSv1.2\"}"))
                    .isEqualTo(CLIENTS / 2);
        }
    }

    /**
     * Clients that send their ClientHello and leave at once (a flood's way): each counts as one failed handshake,
     * whether its turn came before it left or not, and the proxy goes on serving.
     */
    @ParameterizedTest
    @ValueSource(strings = {"openssl", "jdk"})
    void helloAndGoneIsOneFailedHandshakeEach(String provider) throws Exception {
        try (TlsFixture.Backend backend = TlsFixture.Backend.start(); Sluice s = oneLoop(provider, backend)) {
            int port = Proxies.port(s, "https");
            byte[] hello = ClientHellos.jdk("localhost");
            List<Socket> gone = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Socket c = new Socket("127.0.0.1", port);
                    gone.add(c);
                }
                for (Socket c : gone) {
                    c.getOutputStream().write(hello);
                }
            } finally {
                for (Socket c : gone) {
                    c.setSoLinger(true, 0);
                    c.close();
                }
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Proxies.sample(
                    Proxies.admin(s, "/metrics").body(),
                    "sluice_tls_handshakes_total{listener=\"https\",result=\"failure\",version=\"none\"}"))
                    .isEqualTo(CLIENTS));
            try (SSLSocket after = open(TlsFixture.clientContext(ca, null), port, "TLSv1.3")) {
                assertThat(exchange(after, "close")).startsWith("HTTP/1.1 200");
            }
        }
    }

    private static SSLSocket open(SSLContext ctx, int port, String version) throws Exception {
        SSLSocket c = (SSLSocket) ctx.getSocketFactory().createSocket();
        c.setSoTimeout(30_000);
        c.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        c.setEnabledProtocols(new String[] {version});
        c.startHandshake();
        return c;
    }

    /** One GET; returns the status line once the whole response (Content-Length) is read. */
    private static String exchange(SSLSocket c, String connection) throws Exception {
        OutputStream out = c.getOutputStream();
        out.write(("GET /burst HTTP/1.1\r\nHost: localhost\r\nConnection: " + connection + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = c.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("closed in the head: " + head);
            }
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        in.readNBytes(length);
        return head.substring(0, head.indexOf("\r\n"));
    }
}
