package io.sluice.testing;

import io.sluice.config.ClusterConfig;
import io.sluice.config.ConfigLoader;
import io.sluice.config.ListenerConfig;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TlsConfig;
import io.sluice.config.UpstreamTlsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Example configs name certificate files under /etc/sluice/, which a test cannot write. This copies such a
 * config into a directory with /etc/sluice/ moved there, and makes every certificate, key and CA file its
 * listeners' and clusters' {@code tls} sections name, so that {@code sluice check} can read real files.
 */
public final class ExampleCertificates {
    private ExampleCertificates() {
    }

    /** The config to check: {@code config} itself when it names no TLS files, else the copy in {@code dir}. */
    public static Path materialize(Path config, Path dir) throws Exception {
        String text = Files.readString(config, StandardCharsets.UTF_8);
        if (!text.contains("tls:")) {
            return config;
        }
        String moved = text.replace("/etc/sluice/", dir.toAbsolutePath() + "/");
        SluiceConfig parsed = ConfigLoader.parse(moved);
        TestCertificates.Ca ca = TestCertificates.newCa("Example CA");
        for (ListenerConfig l : parsed.listeners()) {
            TlsConfig tls = l.tls();
            if (tls == null) {
                continue;
            }
            for (TlsConfig.CertificateFiles f : tls.certificates()) {
                TestCertificates.Issued issued = ca.server("example.com", "*.example.com");
                write(f.cert(), issued.chainPem());
                write(f.key(), issued.keyPem());
            }
            if (tls.clientCa() != null) {
                Files.createDirectories(tls.clientCa().getParent());
                ca.writePem(tls.clientCa());
            }
        }
        for (ClusterConfig c : parsed.clusters()) {
            UpstreamTlsConfig tls = c.tls();
            if (tls == null) {
                continue;
            }
            if (tls.ca() != null) {
                Files.createDirectories(tls.ca().getParent());
                ca.writePem(tls.ca());
            }
            if (tls.cert() != null) {
                TestCertificates.Issued issued = ca.client("sluice");
                write(tls.cert(), issued.chainPem());
                write(tls.key(), issued.keyPem());
            }
        }
        Path copy = dir.resolve(config.getFileName());
        Files.writeString(copy, moved, StandardCharsets.UTF_8);
        return copy;
    }

    private static void write(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }
}
