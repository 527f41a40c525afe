package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty reloads under HTTP and TCP load, alternating two configs that differ in weights, servers, routes,
 * algorithms, health checks and one listener: no request fails, no connection is refused or reset, and a long
 * TCP stream and a WebSocket opened before the first reload stay open through the last. A bad file and a port
 * clash in the middle change nothing.
 */
class ReloadUnderLoadTest {
    private static final int RELOADS = 20;
    private static final long STREAM_BYTES = 256L << 20;
    private static final int CHUNK = 64 * 1024;

    @TempDir
    Path dir;

    private record Ports(int web, int tcp, int stream, int extra) {
        /**
         * The listener only config b has takes a port picked just before the reload that binds it. Between two b
         * reloads nothing of the test holds that port, and once, on CI, something else on the machine had it by
         * the next b reload (bind: address already in use at reload 13; what took it is not known, and 60 quick
         * remove-and-add reloads by hand on epoll all re-bound). A reload refusing a taken port is right;
         * this test is about reloads that can succeed.
         */
        Ports withNewExtra() throws IOException {
            return new Ports(web, tcp, stream, Proxies.freePort());
        }
    }

    private static String config(boolean b, Ports p, String h1, String h2, String h3, String h4, String tcp,
                                 String echo) {
        // Variant b: other weights, h2 out of c1 and h4 in, least_connections and a health check, /a routed to
        // a cluster c3 that only b has, and a listener "extra" that only b has. /ws goes to the WebSocket
        // server h3 in both.
        return """
                runtime: { drain_timeout: 5s }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:%d"
                    protocol: http
                    cluster: c1
                    routes:
                      - { name: ws, match: { path_prefix: /ws }, cluster: c2 }
                      - { name: a, match: { path_prefix: /a }, cluster: %s }
                  - { name: tcp, bind: "127.0.0.1:%d", cluster: t }
                  - { name: stream, bind: "127.0.0.1:%d", cluster: s }
                %s
                clusters:
                  - name: c1
                    algorithm: %s
                    %s
                    servers: [ %s ]
                  - name: c2
                    servers: [ { address: "%s" } ]
                %s
                  - name: t
                    servers: [ { address: "%s" } ]
                  - name: s
                    servers: [ { address: "%s" } ]
                """.formatted(p.web(), b ? "c3" : "c1", p.tcp(), p.stream(),
                b ? "  - { name: extra, bind: \"127.0.0.1:%d\", cluster: t }".formatted(p.extra()) : "",
                b ? "least_connections" : "round_robin",
                b ? "health_check: { type: tcp, interval: 500ms, timeout: 500ms }" : "",
                b ? "{ address: \"%s\", weight: 3 }, { address: \"%s\" }".formatted(h1, h4)
                        : "{ address: \"%s\" }, { address: \"%s\" }".formatted(h1, h2),
                h3, b ? "  - { name: c3, servers: [ { address: \"%s\" } ] }".formatted(h2) : "", tcp, echo);
    }

    @Test
    void twentyReloadsUnderLoadLoseNothing() throws Exception {
        Ports ports = new Ports(Proxies.freePort(), Proxies.freePort(), Proxies.freePort(), Proxies.freePort());
        try (HttpBackend h1 = new HttpBackend("h1", HttpBackend.sayName("h1"));
             HttpBackend h2 = new HttpBackend("h2", HttpBackend.sayName("h2"));
             HttpBackend h3 = new HttpBackend("h3", UpgradeTest.websocketEcho());
             HttpBackend h4 = new HttpBackend("h4", HttpBackend.sayName("h4"));
             TestBackend tcp = TestBackend.start("t", TestBackend.sayName());
             TestBackend echo = TestBackend.start("e", TestBackend.echo())) {
            IntFunction<String> configFor = i -> {
                try {
                    boolean b = i % 2 == 1;
                    return config(b, b ? ports.withNewExtra() : ports, h1.address(), h2.address(), h3.address(),
                            h4.address(), tcp.address(), echo.address());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, configFor.apply(0));
            try (Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start")) {
                List<String> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong httpOk = new AtomicLong();
                AtomicLong tcpOk = new AtomicLong();
                List<Thread> load = List.of(
                        httpLoad(ports.web(), "/", stop, httpOk, failures),
                        httpLoad(ports.web(), "/a/b", stop, httpOk, failures),
                        tcpLoad(ports.tcp(), stop, tcpOk, failures));
                load.forEach(Thread::start);

                Semaphore chunks = new Semaphore(0);
                ConcurrentLinkedQueue<byte[]> digests = new ConcurrentLinkedQueue<>();
                Thread stream = longStream(ports.stream(), chunks, digests, failures);
                stream.start();
                try (RawHttp ws = new RawHttp(ports.web())) {
                    RawHttp.Response r = ws.send("GET /ws/chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            + "Sec-WebSocket-Version: 13\r\n\r\n").read();
                    assertThat(r.status()).isEqualTo(101);

                    int perStep = (int) (STREAM_BYTES / CHUNK / (RELOADS + 1));
                    for (int i = 1; i <= RELOADS; i++) {
                        chunks.release(perStep);
                        String next = configFor.apply(i);
                        Files.writeString(file, next);
                        ReloadResult result = s.reloadAsync().get(30, TimeUnit.SECONDS);
                        assertThat(result.applied()).as("reload %d: %s", i, result).isTrue();
                        // Both loads go on under the new configuration before the next reload.
                        long httpBefore = httpOk.get();
                        long tcpBefore = tcpOk.get();
                        await().atMost(Duration.ofSeconds(10)).until(() -> httpOk.get() > httpBefore + 5 && tcpOk.get() > tcpBefore + 5);
                        byte[] frame = {(byte) 0x81, (byte) 0x82, 1, 2, 3, 4, (byte) ('h' ^ 1), (byte) ('i' ^ 2)};
                        ws.out.write(frame);
                        ws.out.flush();
                        assertThat(ws.in().readNBytes(frame.length)).isEqualTo(frame);
                        if (i == RELOADS / 2) {
                            badFileAndPortClashChangeNothing(s, file, next);
                        }
                    }
                    assertThat(s.listeners()).extracting(l -> l.name()).containsExactly("web", "tcp", "stream");
                }
                chunks.release(Integer.MAX_VALUE / 2);
                stream.join(120_000);
                stop.set(true);
                for (Thread t : load) {
                    t.join(30_000);
                }
                assertThat(failures).isEmpty();
                assertThat(digests).hasSize(2);
                assertThat(digests.poll()).isEqualTo(digests.poll());
            }
        }
    }

    private static void badFileAndPortClashChangeNothing(Sluice s, Path file, String inForce) throws Exception {
        List<String> listeners = s.listeners().stream().map(l -> l.name()).sorted().toList();
        Files.writeString(file, inForce.replace("algorithm:", "algoritm:"));
        ReloadResult bad = s.reloadAsync().get(30, TimeUnit.SECONDS);
        assertThat(bad.applied()).isFalse();
        assertThat(bad.errors()).anySatisfy(e -> assertThat(e.path()).endsWith(".algoritm"));
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Files.writeString(file, inForce.replace("clusters:", """
                      - { name: clash, bind: "127.0.0.1:%d", cluster: t }
                    clusters:""".formatted(taken.getLocalPort())));
            ReloadResult clash = s.reloadAsync().get(30, TimeUnit.SECONDS);
            assertThat(clash.applied()).isFalse();
            assertThat(clash.errors()).singleElement().satisfies(e -> {
                assertThat(e.path()).startsWith("listeners[").endsWith("].bind");
                assertThat(e.message()).contains("cannot bind");
            });
        }
        assertThat(s.listeners().stream().map(l -> l.name()).sorted().toList()).isEqualTo(listeners);
        Files.writeString(file, inForce);
    }

    private static Thread httpLoad(int port, String path, AtomicBoolean stop, AtomicLong ok, List<String> failures) {
        return new Thread(() -> {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            URI uri = URI.create("http://127.0.0.1:" + port + path);
            while (!stop.get()) {
                try {
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                            .build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        ok.incrementAndGet();
                    } else {
                        failures.add(path + " -> " + r.statusCode() + " " + r.body());
                    }
                } catch (Exception e) {
                    failures.add(path + " -> " + e);
                }
            }
        }, "http-load" + path);
    }

    private static Thread tcpLoad(int port, AtomicBoolean stop, AtomicLong ok, List<String> failures) {
        return new Thread(() -> {
            while (!stop.get()) {
                try {
                    String answer = Proxies.exchange(port).trim();
                    if (answer.equals("t")) {
                        ok.incrementAndGet();
                    } else {
                        failures.add("tcp -> '" + answer + "'");
                    }
                } catch (Exception e) {
                    failures.add("tcp -> " + e);
                }
            }
        }, "tcp-load");
    }

    /** Writes 256 MiB through the echo server as {@code chunks} allows, and digests both directions. */
    private static Thread longStream(int port, Semaphore chunks, ConcurrentLinkedQueue<byte[]> digests,
                                     List<String> failures) {
        return new Thread(() -> {
            try (Socket sock = Proxies.connect(port)) {
                sock.setSoTimeout(120_000);
                CountDownLatch read = new CountDownLatch(1);
                Thread reader = new Thread(() -> {
                    try {
                        MessageDigest d = MessageDigest.getInstance("SHA-256");
                        InputStream in = sock.getInputStream();
                        byte[] buf = new byte[CHUNK];
                        long total = 0;
                        int n;
                        while (total < STREAM_BYTES && (n = in.read(buf)) > 0) {
                            d.update(buf, 0, n);
                            total += n;
                        }
                        if (total != STREAM_BYTES) {
                            failures.add("stream read " + total + " bytes");
                        }
                        digests.add(d.digest());
                    } catch (Exception e) {
                        failures.add("stream read: " + e);
                    } finally {
                        read.countDown();
                    }
                }, "stream-reader");
                reader.start();
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                OutputStream out = sock.getOutputStream();
                SplittableRandom random = new SplittableRandom(7);
                byte[] chunk = new byte[CHUNK];
                for (long sent = 0; sent < STREAM_BYTES; sent += CHUNK) {
                    chunks.acquire();
                    random.nextBytes(chunk);
                    d.update(chunk);
                    out.write(chunk);
                }
                digests.add(d.digest());
                read.await(120, TimeUnit.SECONDS);
            } catch (Exception e) {
                failures.add("stream write: " + e);
            }
        }, "stream-writer");
    }

}
