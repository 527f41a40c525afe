package io.sluice.tls;

import com.sun.net.httpserver.HttpServer;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.testing.TestCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** What the TLS tests share: a CA, certificate files, an HTTP backend and Sluice started from a file. */
final class TlsFixture {
    private TlsFixture() {
    }

    /** Writes {@code base.pem} and {@code base.key} for a server certificate with these names; returns {cert, key}. */
    static Path[] serverFiles(TestCertificates.Ca ca, Path dir, String base, String... names) {
        return ca.server(names).writePem(dir, base);
    }

    /** Sluice from a config file in {@code dir}, so that reloads read it again. */
    static Sluice start(Path dir, String yaml) throws Exception {
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, yaml);
        return Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
    }

    /** A client SSLContext trusting {@code ca}, optionally presenting {@code client}'s certificate. */
    static SSLContext clientContext(TestCertificates.Ca ca, TestCertificates.Issued client) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ca.trustStore());
        KeyManagerFactory kmf = null;
        if (client != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            KeyStore ks = client.keyStore();
            kmf.init(ks, "secret".toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    /**
     * An HTTP server on 127.0.0.1 that answers every request with the X-Forwarded-Proto and Forwarded headers it
     * got, one per line.
     */
    record Backend(HttpServer server, ExecutorService pool) implements AutoCloseable {
        static Backend start() throws IOException {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            s.setExecutor(pool);
            s.createContext("/", ex -> {
                ex.getRequestBody().readAllBytes();
                byte[] body = ("proto=" + ex.getRequestHeaders().getFirst("X-Forwarded-Proto") + "\nforwarded="
                        + ex.getRequestHeaders().getFirst("Forwarded") + "\n").getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                ex.close();
            });
            s.start();
            return new Backend(s, pool);
        }

        String address() {
            return "127.0.0.1:" + server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
            pool.shutdownNow();
        }
    }
}
