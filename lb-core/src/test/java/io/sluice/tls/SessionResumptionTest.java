package io.sluice.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Whether a client can resume its TLS session, seen by openssl s_client: the session it saved from one connection
 * ({@code -sess_out}) offered on the next ({@code -sess_in}) is {@code Reused} or {@code New}. TLS 1.2 resumes by
 * session ID from the server's cache or by ticket, TLS 1.3 by ticket (stateless, or stateful from the cache), so
 * only {@code session_tickets: false} with {@code session_cache: false} makes every handshake a full one.
 */
class SessionResumptionTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} session_tickets: {2}, session_cache: {3} -> {4}")
    @CsvSource({
            "openssl, TLSv1.3, true, true, Reused",
            "openssl, TLSv1.2, true, true, Reused",
            "openssl, TLSv1.3, false, true, New", // BoringSSL resumes TLS 1.3 by stateless ticket only
            "openssl, TLSv1.2, false, true, Reused",
            "openssl, TLSv1.3, true, false, Reused",
            "openssl, TLSv1.2, true, false, Reused",
            "openssl, TLSv1.3, false, false, New",
            "openssl, TLSv1.2, false, false, New",
            // The JDK engine follows the JVM's jdk.tls.server.enableSessionTicketExtension, not session_tickets.
            "jdk, TLSv1.3, true, true, Reused",
            "jdk, TLSv1.2, true, true, Reused",
            "jdk, TLSv1.3, false, true, Reused",
            "jdk, TLSv1.2, false, true, Reused",
    })
    void resumption(String provider, String version, boolean tickets, boolean cache, String expected) throws Exception {
        ExternalTool openssl = ExternalTool.require("openssl", "openssl");
        TestCertificates.Ca ca = TestCertificates.newCa("Resumption Test CA");
        Path[] cert = TlsFixture.serverFiles(ca, dir, "localhost", "localhost");
        try (TlsFixture.Backend backend = TlsFixture.Backend.start();
             Sluice s = TlsFixture.start(dir, """
                     admin: { enabled: false }
                     listeners:
                       - name: https
                         bind: "127.0.0.1:0"
                         protocol: http
                         cluster: app
                         tls:
                           provider: %s
                           session_tickets: %s
                           session_cache: %s
                           certificates: [ { cert: "%s", key: "%s" } ]
                     clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                     """.formatted(provider, tickets, cache, cert[0], cert[1], backend.address()))) {
            Path session = dir.resolve("session.pem");
            String first = connect(openssl, s, version, "-sess_out", session.toString());
            assertThat(first).contains("New, TLSv1.").contains("HTTP/1.1 200");
            if (expected.equals("New") && !Files.exists(session)) {
                return; // no ticket and no session ID: s_client kept nothing to resume with
            }
            assertThat(session).exists();
            String second = connect(openssl, s, version, "-sess_in", session.toString());
            assertThat(second).contains("HTTP/1.1 200");
            assertThat(second).as(second).contains(expected + ", TLSv1.");
        }
    }

    /** One request on a new connection (the response is read, so a TLS 1.3 ticket sent after the handshake too). */
    private static String connect(ExternalTool openssl, Sluice s, String version, String... session)
            throws Exception {
        String[] args = new String[5 + session.length];
        args[0] = "s_client";
        args[1] = "-connect";
        args[2] = "127.0.0.1:" + Proxies.port(s, "https");
        args[3] = version.equals("TLSv1.3") ? "-tls1_3" : "-tls1_2";
        args[4] = "-ign_eof"; // read up to the close: the response, and a TLS 1.3 ticket
        System.arraycopy(session, 0, args, 5, session.length);
        ExternalTool.Run run = openssl.run("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", args);
        return run.output();
    }
}
