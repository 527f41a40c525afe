package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.cli.Main;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad TLS input is found by {@code sluice check} and by a reload (which then changes nothing), with key and line. */
class TlsConfigErrorsTest {
    @TempDir
    Path dir;

    private TestCertificates.Ca ca;

    @BeforeEach
    void certificates() {
        ca = TestCertificates.newCa("Errors Test CA");
    }

    private record Result(int code, String out, String err) {
    }

    private Result check(String tls) throws Exception {
        return checkFile(config(tls));
    }

    private Result checkFile(String yaml) throws Exception {
        Path file = dir.resolve("check.yaml");
        Files.writeString(file, yaml);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(new String[] {"check", file.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The tls section starts on line 8, its first certificate entry on line 10. */
    private static String config(String tls) {
        return """
                admin: { enabled: false }
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                listeners:
                  - name: https
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    tls:
                """ + tls.indent(6);
    }

    /** A cluster's tls section starts on line 5, its first key on line 6, the next ones on lines 7 and 8. */
    private static String clusterConfig(String tls) {
        return """
                admin: { enabled: false }
                clusters:
                  - name: app
                    servers: [ { address: "127.0.0.1:1" } ]
                    tls:
                """ + tls.indent(6) + """
                listeners:
                  - { name: plain, bind: "127.0.0.1:0", protocol: http, cluster: app }
                """;
    }

    private static String clientTls(Path ca, Path cert, Path key) {
        return "ca: \"" + ca + "\"\ncert: \"" + cert + "\"\nkey: \"" + key + "\"\n";
    }

    private String pair(Path[] files) {
        return "certificates:\n  - { cert: \"" + files[0] + "\", key: \"" + files[1] + "\" }\n";
    }

    @Test
    void aMissingFileIsNamedWithItsKeyAndLine() throws Exception {
        Result r = check("certificates:\n  - { cert: \"" + dir.resolve("nope.pem") + "\", key: \"" + dir.resolve("nope.key")
                + "\" }\n");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("listeners[0].tls.certificates[0].cert (line 10, col 11): cannot read "
                + dir.resolve("nope.pem") + ": no such file");
        assertThat(r.err()).contains("listeners[0].tls.certificates[0].key (line 10");
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        Path[] a = ca.server("a.example.com").writePem(dir, "a");
        Path[] b = ca.server("b.example.com").writePem(dir, "b");
        Result r = check("certificates:\n  - { cert: \"" + a[0] + "\", key: \"" + b[1] + "\" }\n");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("listeners[0].tls.certificates[0].key (line 10", "does not belong to the first "
                + "certificate in " + a[0] + " (a.example.com)");
    }

    @Test
    void anExpiredCertificateIsAnErrorAndOneExpiringSoonAWarning() throws Exception {
        Path[] old = ca.server(Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1)),
                "old.example.com").writePem(dir, "old");
        Result expired = check(pair(old));
        assertThat(expired.code()).isEqualTo(1);
        assertThat(expired.err()).contains("listeners[0].tls.certificates[0].cert (line 10", "(old.example.com) expired on");

        Path[] soon = ca.server(Instant.now().minus(Duration.ofDays(80)), Instant.now().plus(Duration.ofDays(5)),
                "soon.example.com").writePem(dir, "soon");
        Result warned = check(pair(soon));
        assertThat(warned.code()).as(warned.err()).isZero();
        assertThat(warned.out()).contains("1 warning(s)", "warning: listeners[0].tls.certificates[0].cert (line 10",
                "(soon.example.com) expires on", "in 4 day(s)");
    }

    @Test
    void aPkcs1KeyGetsTheCommandThatConvertsIt() throws Exception {
        ExternalTool openssl = ExternalTool.require("openssl", "openssl");
        Path[] rsa = TestCertificates.newCa("RSA CA", TestCertificates.KeyType.RSA_2048).server("rsa.example.com")
                .writePem(dir, "rsa");
        Path pkcs1 = dir.resolve("rsa-pkcs1.key");
        ExternalTool.Run conv = openssl.run("", "rsa", "-in", rsa[1].toString(), "-out", pkcs1.toString(), "-traditional");
        assertThat(conv.code()).as(conv.output()).isZero();
        Result r = check("certificates:\n  - { cert: \"" + rsa[0] + "\", key: \"" + pkcs1 + "\" }\n");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("PKCS#1", "openssl pkcs8 -topk8 -nocrypt -in OLD.key -out NEW.key");
    }

    @Test
    void unknownProtocolsAndCiphersAreErrors() throws Exception {
        Path[] ok = ca.server("ok.example.com").writePem(dir, "ok");
        Result protocol = check(pair(ok) + "protocols: [TLSv1.4]\n");
        assertThat(protocol.code()).isEqualTo(1);
        assertThat(protocol.err()).contains("listeners[0].tls.protocols (line 11", "unknown protocol \"TLSv1.4\"");
        Result old = check(pair(ok) + "protocols: [TLSv1.1]\n");
        assertThat(old.err()).contains("TLSv1.1 is not supported");
        for (String provider : new String[] {"openssl", "jdk"}) {
            Result cipher = check(pair(ok) + "provider: " + provider + "\nciphers: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
                    + "TLS_FANCY_NEW_CIPHER]\n");
            assertThat(cipher.code()).isEqualTo(1);
            assertThat(cipher.err()).contains("listeners[0].tls.ciphers (line 12", "TLS engine: TLS_FANCY_NEW_CIPHER");
        }
    }

    @Test
    void turningTheSessionCacheOffNeedsOpenSsl() throws Exception {
        Path[] ok = ca.server("ok.example.com").writePem(dir, "ok");
        Result jdk = check(pair(ok) + "provider: jdk\nsession_cache: false\n");
        assertThat(jdk.code()).isEqualTo(1);
        assertThat(jdk.err()).contains("listeners[0].tls.session_cache (line 12", "false needs the OpenSSL provider");
        Result openssl = check(pair(ok) + "provider: openssl\nsession_cache: false\nsession_tickets: false\n");
        assertThat(openssl.code()).as(openssl.err()).isZero();
    }

    @Test
    void clientAuthNeedsAClientCaAndSpliceCannotCarryTls() throws Exception {
        Path[] ok = ca.server("ok.example.com").writePem(dir, "ok");
        Result r = check(pair(ok) + "client_auth: require\n");
        assertThat(r.err()).contains("listeners[0].tls.client_ca", "required with client_auth: require");
        Path file = dir.resolve("splice.yaml");
        Files.writeString(file, """
                admin: { enabled: false }
                runtime: { transport: epoll }
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                listeners:
                  - name: tcp
                    bind: "127.0.0.1:0"
                    cluster: app
                    splice: true
                    tls: { certificates: [ { cert: "%s", key: "%s" } ] }
                """.formatted(ok[0], ok[1]));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Main.execute(new String[] {"check", file.toString()}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("listeners[0].splice", "cannot be used with tls");
    }

    @Test
    void aClusterCaThatIsMissingOrNoPemIsNamedWithItsKeyAndLine() throws Exception {
        Result missing = checkFile(clusterConfig("ca: \"" + dir.resolve("nope-ca.pem") + "\"\n"));
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("clusters[0].tls.ca (line 6, col 11): cannot read "
                + dir.resolve("nope-ca.pem") + ": no such file");

        Path junk = Files.writeString(dir.resolve("junk-ca.pem"), "not a certificate\n");
        Result notPem = checkFile(clusterConfig("ca: \"" + junk + "\"\n"));
        assertThat(notPem.code()).isEqualTo(1);
        assertThat(notPem.err()).contains("clusters[0].tls.ca (line 6, col 11): " + junk
                + ": no complete PEM certificate");

        // Unused without verification, as when the context is built: not read.
        Result unverified = checkFile(clusterConfig("verify: false\nca: \"" + dir.resolve("nope-ca.pem") + "\"\n"));
        assertThat(unverified.code()).as(unverified.err()).isZero();
    }

    @Test
    void aClientKeyOfAnotherCertificateIsRefusedWithItsLine() throws Exception {
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        Path[] mine = ca.client("sluice-a").writePem(dir, "client-a");
        Path[] other = ca.client("sluice-b").writePem(dir, "client-b");
        Result r = checkFile(clusterConfig(clientTls(caFile, mine[0], other[1])));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("clusters[0].tls.key (line 8, col 12): " + other[1] + " does not belong to "
                + "the first certificate in " + mine[0] + " (sluice-a)");
        Result ok = checkFile(clusterConfig(clientTls(caFile, mine[0], mine[1])));
        assertThat(ok.code()).as(ok.err()).isZero();
    }

    @Test
    void anExpiredClientCertificateIsAnErrorAndOneExpiringSoonAWarning() throws Exception {
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        Path[] old = ca.server(Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1)),
                "old-client").writePem(dir, "old");
        Result expired = checkFile(clusterConfig(clientTls(caFile, old[0], old[1])));
        assertThat(expired.code()).isEqualTo(1);
        assertThat(expired.err()).contains("clusters[0].tls.cert (line 7, col 13)", "(old-client) expired on");

        Path[] soon = ca.server(Instant.now().minus(Duration.ofDays(80)), Instant.now().plus(Duration.ofDays(5)),
                "soon-client").writePem(dir, "soon");
        Result warned = checkFile(clusterConfig(clientTls(caFile, soon[0], soon[1])));
        assertThat(warned.code()).as(warned.err()).isZero();
        assertThat(warned.out()).contains("warning: clusters[0].tls.cert (line 7", "(soon-client) expires on");
    }

    @Test
    void aReloadWithABadClusterCaChangesNothing() throws Exception {
        Path caFile = ca.writePem(dir.resolve("ca.pem"));
        try (Sluice s = TlsFixture.start(dir, clusterConfig("ca: \"" + caFile + "\"\n"))) {
            Path junk = Files.writeString(dir.resolve("junk-ca.pem"), "not a certificate\n");
            Files.writeString(dir.resolve("sluice.yaml"), clusterConfig("ca: \"" + junk + "\"\n")
                    + "  - { name: extra, bind: \"127.0.0.1:0\", protocol: http, cluster: app }\n");
            ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
            assertThat(r.applied()).isFalse();
            assertThat(r.errors().toString()).contains("clusters[0].tls.ca (line 6", "no complete PEM certificate");
            assertThat(s.listeners()).extracting(l -> l.config().name()).containsExactly("plain");
            assertThat(s.config().clusters().get(0).tls().ca()).isEqualTo(caFile);
        }
    }

    @Test
    void aReloadWithABadCertificateChangesNothing() throws Exception {
        Path[] good = ca.server("good.example.com").writePem(dir, "good");
        try (Sluice s = TlsFixture.start(dir, config(pair(good)))) {
            Path[] other = ca.server("other.example.com").writePem(dir, "other");
            Files.writeString(dir.resolve("sluice.yaml"), config("certificates:\n  - { cert: \"" + good[0]
                    + "\", key: \"" + other[1] + "\" }\n"));
            ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
            assertThat(r.applied()).isFalse();
            assertThat(r.errors().toString()).contains("listeners[0].tls.certificates[0].key (line 10");
            ExternalTool.Run ok = ExternalTool.require("openssl", "openssl").run("", "s_client", "-connect",
                    "127.0.0.1:" + Proxies.port(s, "https"), "-servername", "good.example.com");
            assertThat(ok.output()).contains("subject=CN = good.example.com");
        }
    }
}
