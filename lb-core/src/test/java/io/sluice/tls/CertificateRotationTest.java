package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificates rotated on disk the ways operators rotate them (written in place; a Kubernetes secret's
 * {@code ..data} symlink swapped) are served without a restart while clients keep making new connections, with
 * not one failed request; a half-written file keeps the certificate in force; a reload re-reads the files.
 */
class CertificateRotationTest {
    private static final String HOST = "app.example.com";

    @TempDir
    Path dir;

    private final TestCertificates.Ca ca = TestCertificates.newCa("Rotation Test CA");

    /** A generation directory like Kubernetes' {@code ..2024_01_01_00_00_00.1}, holding tls.pem and tls.key. */
    private Path generation(String name, String cn) throws Exception {
        Path g = Files.createDirectories(dir.resolve("secret").resolve(name));
        TestCertificates.Issued issued = ca.server(cn, HOST);
        Files.writeString(g.resolve("tls.pem"), issued.chainPem());
        Files.writeString(g.resolve("tls.key"), issued.keyPem());
        return g;
    }

    /** Points {@code secret/..data} at {@code target} in one rename, as the kubelet does. */
    private void swapData(Path target) throws Exception {
        Path secret = dir.resolve("secret");
        Path tmp = secret.resolve("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target.getFileName());
        Files.move(tmp, secret.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private String servedName(int port) throws Exception {
        ExternalTool.Run r = ExternalTool.require("openssl", "openssl").run("", "s_client", "-connect",
                "127.0.0.1:" + port, "-servername", HOST);
        int at = r.output().indexOf("subject=CN = ");
        return at < 0 ? r.output() : r.output().substring(at + 13, r.output().indexOf('\n', at));
    }

    @Test
    void rotationOnDiskUnderLoadFailsNoRequest() throws Exception {
        Path gen1 = generation("..gen1", "v1.example.com");
        swapData(gen1);
        Path secret = dir.resolve("secret");
        Files.createSymbolicLink(secret.resolve("tls.pem"), Path.of("..data/tls.pem"));
        Files.createSymbolicLink(secret.resolve("tls.key"), Path.of("..data/tls.key"));
        try (TlsFixture.Backend backend = TlsFixture.Backend.start();
             Sluice s = TlsFixture.start(dir, """
                     admin: { enabled: true, bind: "127.0.0.1:0" }
                     listeners:
                       - name: https
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         tls: { certificates: [ { cert: "%s", key: "%s" } ] }
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(secret.resolve("tls.pem"), secret.resolve("tls.key"), backend.address()))) {
            int port = Proxies.port(s, "https");
            TlsStats stats = ((io.sluice.http.HttpListener) s.listener("https")).tls().stats();
            assertThat(servedName(port)).isEqualTo("v1.example.com");

            Load load = new Load(port, TlsFixture.clientContext(ca, null), 4);
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> load.ok.get() > 20);

                // In place: the files under ..data rewritten (the key after the certificate, as a copy would).
                TestCertificates.Issued v2 = ca.server("v2.example.com", HOST);
                Files.writeString(gen1.resolve("tls.pem"), v2.chainPem());
                Files.writeString(gen1.resolve("tls.key"), v2.keyPem());
                await().atMost(Duration.ofSeconds(15)).until(() -> servedName(port).equals("v2.example.com"));

                // Half written: the certificate cut in the middle stays unused, and that is counted.
                long failedBefore = stats.reloads(false);
                String pem = v2.chainPem();
                Files.writeString(gen1.resolve("tls.pem"), pem.substring(0, pem.length() / 2));
                await().atMost(Duration.ofSeconds(15)).until(() -> stats.reloads(false) > failedBefore);
                assertThat(servedName(port)).isEqualTo("v2.example.com");
                Files.writeString(gen1.resolve("tls.pem"), pem);

                // The Kubernetes way: a new generation directory and one rename of ..data.
                swapData(generation("..gen3", "v3.example.com"));
                await().atMost(Duration.ofSeconds(15)).until(() -> servedName(port).equals("v3.example.com"));
                int before = load.ok.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> load.ok.get() > before + 20);
            } finally {
                load.stop();
            }
            assertThat(load.failed.get()).as("failed requests; first failure: " + load.firstFailure.get()).isZero();
            assertThat(load.ok.get()).isGreaterThan(100);
            assertThat(stats.reloads(true)).isGreaterThanOrEqualTo(2);
            String metrics = Proxies.admin(s, "/metrics").body();
            assertThat(Proxies.sample(metrics,
                    "sluice_tls_certificate_reloads_total{listener=\"https\",result=\"success\"}")).isGreaterThanOrEqualTo(2);
            assertThat(metrics).contains("sluice_tls_certificate_expiry_timestamp_seconds{listener=\"https\",name=\"v3.example.com\"}")
                    .doesNotContain("name=\"v1.example.com\"");
        }
    }

    @Test
    void aReloadReadsTheFilesAgainEvenWhenTheConfigIsTheSame() throws Exception {
        TestCertificates.Issued v1 = ca.server("v1.example.com", HOST);
        Path cert = dir.resolve("tls.pem");
        Path key = dir.resolve("tls.key");
        Files.writeString(cert, v1.chainPem());
        Files.writeString(key, v1.keyPem());
        try (TlsFixture.Backend backend = TlsFixture.Backend.start();
             Sluice s = TlsFixture.start(dir, """
                     admin: { enabled: false }
                     listeners:
                       - { name: https, bind: "127.0.0.1:0", protocol: http, cluster: app,
                           tls: { provider: jdk, certificates: [ { cert: "%s", key: "%s" } ] } }
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(cert, key, backend.address()))) {
            int port = Proxies.port(s, "https");
            TestCertificates.Issued v2 = ca.server("v2.example.com", HOST);
            Files.writeString(cert, v2.chainPem());
            Files.writeString(key, v2.keyPem());
            ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
            assertThat(r.applied()).as(r.errors().toString()).isTrue();
            assertThat(servedName(port)).isEqualTo("v2.example.com");
        }
    }

    /** Clients that each make a new TLS connection per request (Connection: close), so every one handshakes. */
    private static final class Load {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicReference<String> firstFailure = new AtomicReference<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Load(int port, SSLContext tls, int clients) {
            for (int i = 0; i < clients; i++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try {
                            request(port, tls);
                            ok.incrementAndGet();
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e.toString());
                        }
                    }
                }, "rotation-load-" + i);
                t.start();
                threads.add(t);
            }
        }

        private static void request(int port, SSLContext tls) throws Exception {
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port)) {
                socket.setSoTimeout(10_000);
                SSLParameters p = socket.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName(HOST)));
                p.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(p);
                OutputStream out = socket.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                if (!response.startsWith("HTTP/1.1 200")) {
                    throw new IllegalStateException("got: " + response);
                }
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(20_000);
            }
        }
    }
}
