package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code clusters[].tls}: defaults, and every mistake named by key and line. */
class UpstreamTlsConfigTest {
    @TempDir
    Path dir;

    private static String cluster(String tls) {
        return """
                listeners:
                  - { name: web, bind: "127.0.0.1:0", cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "10.0.0.1:443" } ]
                    tls: %s
                """.formatted(tls);
    }

    private static UpstreamTlsConfig tlsOf(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml).clusters().get(0).tls();
    }

    private static void fails(String yaml, String expected) {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml)).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.errors()).map(ConfigError::toString).anySatisfy(l -> assertThat(l).contains(expected)));
    }

    private String file(String name) throws Exception {
        return Files.writeString(dir.resolve(name), "x").toString();
    }

    @Test
    void aSectionTurnsTlsOnWithVerificationAndAutoSni() throws Exception {
        assertThat(tlsOf(cluster("{}"))).isEqualTo(new UpstreamTlsConfig(null, true, null, null, null));
        assertThat(tlsOf(cluster("{ enabled: true, sni: auto }"))).isEqualTo(
                new UpstreamTlsConfig(null, true, null, null, null));
        assertThat(tlsOf(cluster("{ enabled: false, sni: api.example.com }"))).isNull();
        assertThat(ConfigLoader.parse(cluster("null")).clusters().get(0).tls()).isNull();
    }

    @Test
    void everyKeyIsRead() throws Exception {
        String ca = file("ca.pem");
        String cert = file("c.pem");
        String key = file("c.key");
        assertThat(tlsOf(cluster("{ sni: api.example.com, verify: false, ca: \"%s\", cert: \"%s\", key: \"%s\" }"
                .formatted(ca, cert, key)))).isEqualTo(new UpstreamTlsConfig("api.example.com", false, Path.of(ca),
                Path.of(cert), Path.of(key)));
    }

    @Test
    void aCertificateNeedsItsKeyAndAKeyItsCertificate() throws Exception {
        fails(cluster("{ cert: \"" + file("c.pem") + "\" }"),
                "clusters[0].tls.cert (line 6, col 18): a client certificate needs its private key: add key");
        fails(cluster("{ key: \"" + file("c.key") + "\" }"),
                "clusters[0].tls.key (line 6, col 17): a private key needs its certificate: add cert");
    }

    @Test
    void filesAreNotReadWhenTheConfigIsChecked() throws Exception {
        // Parsing reads no file: the TLS check above the config does (TlsConfigErrorsTest), and the context build.
        assertThat(tlsOf(cluster("{ ca: /mounted/later/ca.pem }")).ca()).isEqualTo(Path.of("/mounted/later/ca.pem"));
        fails(cluster("{ ca: \"\" }"), "clusters[0].tls.ca (line 6, col 16): must not be empty");
    }

    @Test
    void sniMustBeAHostName() {
        fails(cluster("{ sni: 10.0.0.1 }"), "clusters[0].tls.sni (line 6, col 17): expected a host name");
        fails(cluster("{ sni: \"a b\" }"), "clusters[0].tls.sni");
        fails(cluster("{ verify: maybe }"), "clusters[0].tls.verify");
        fails(cluster("{ sin: a.b }"), "clusters[0].tls.sin (line 6, col 12): unknown key");
    }
}
