package io.sluice.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificates made by the tests, at run time: a CA, server and client certificates signed by it, with ECDSA
 * P-256 keys by default (the curve of the load comparison). Nothing here is checked in, so no private key in
 * the repository ever looks real.
 *
 * <pre>
 * TestCertificates.Ca ca = TestCertificates.newCa("Test CA");
 * TestCertificates.Issued api = ca.server("api.example.com");
 * Path[] files = api.writePem(dir, "api");   // api.pem (leaf then CA), api.key (PKCS#8)
 * </pre>
 */
public final class TestCertificates {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    private TestCertificates() {
    }

    public enum KeyType { EC_P256, RSA_2048 }

    public static Ca newCa(String commonName) {
        return newCa(commonName, KeyType.EC_P256);
    }

    public static Ca newCa(String commonName, KeyType type) {
        KeyPair pair = keyPair(type);
        Instant now = Instant.now();
        try {
            X500Name subject = new X500Name("CN=" + commonName);
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))),
                    subject, pair.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
            X509Certificate cert = sign(b, pair.getPrivate());
            return new Ca(cert, pair.getPrivate(), type);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A certificate authority that issues leaf certificates. */
    public record Ca(X509Certificate certificate, PrivateKey key, KeyType keyType) {

        /** A server certificate for these DNS names (the first is also the CN), valid from an hour ago for 90 days. */
        public Issued server(String... dnsNames) {
            return issue(Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(90)),
                    KeyPurposeId.id_kp_serverAuth, dnsNames);
        }

        /** A server certificate valid only within [notBefore, notAfter] (expired or soon expiring ones). */
        public Issued server(Instant notBefore, Instant notAfter, String... dnsNames) {
            return issue(notBefore, notAfter, KeyPurposeId.id_kp_serverAuth, dnsNames);
        }

        /** A client certificate for mutual TLS. */
        public Issued client(String commonName) {
            return issue(Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofDays(90)),
                    KeyPurposeId.id_kp_clientAuth, commonName);
        }

        /** The CA certificate as PEM, for a trust file ({@code client_ca}, {@code ca}, curl's {@code --cacert}). */
        public Path writePem(Path file) {
            write(file, pem("CERTIFICATE", encoded(certificate)));
            return file;
        }

        /** A trust store holding this CA, for the JDK's HttpClient and SSLContext. */
        public KeyStore trustStore() {
            try {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setCertificateEntry("ca", certificate);
                return ks;
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private Issued issue(Instant notBefore, Instant notAfter, KeyPurposeId purpose, String... names) {
            KeyPair pair = keyPair(keyType);
            try {
                X500Name issuer = new X500Name(certificate.getSubjectX500Principal().getName());
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(),
                        Date.from(notBefore), Date.from(notAfter), new X500Name("CN=" + names[0]),
                        pair.getPublic());
                JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
                b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature
                        | KeyUsage.keyEncipherment));
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
                b.addExtension(Extension.authorityKeyIdentifier, false,
                        ext.createAuthorityKeyIdentifier(certificate));
                if (purpose == KeyPurposeId.id_kp_serverAuth) {
                    List<GeneralName> san = new ArrayList<>();
                    for (String name : names) {
                        san.add(new GeneralName(isIp(name) ? GeneralName.iPAddress : GeneralName.dNSName, name));
                    }
                    b.addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(san.toArray(GeneralName[]::new)));
                }
                return new Issued(sign(b, key), pair.getPrivate(), certificate);
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** A leaf certificate, its private key and the CA that signed it. */
    public record Issued(X509Certificate certificate, PrivateKey key, X509Certificate ca) {

        /** The chain in PEM: leaf first, then the CA (as a server sends it). */
        public String chainPem() {
            return pem("CERTIFICATE", encoded(certificate)) + pem("CERTIFICATE", encoded(ca));
        }

        /** The private key in PKCS#8 PEM ({@code BEGIN PRIVATE KEY}), the format certbot and openssl genpkey write. */
        public String keyPem() {
            return pem("PRIVATE KEY", key.getEncoded());
        }

        /** Writes {@code base.pem} (chain) and {@code base.key} in {@code dir}; returns {cert, key}. */
        public Path[] writePem(Path dir, String base) {
            Path cert = dir.resolve(base + ".pem");
            Path keyFile = dir.resolve(base + ".key");
            write(cert, chainPem());
            write(keyFile, keyPem());
            return new Path[] {cert, keyFile};
        }

        /** A key store with this certificate and key (password "secret"), for a JDK client or server. */
        public KeyStore keyStore() {
            try {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("key", key, "secret".toCharArray(), new X509Certificate[] {certificate, ca});
                return ks;
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static boolean isIp(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }

    private static KeyPair keyPair(KeyType type) {
        try {
            if (type == KeyType.RSA_2048) {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(2048, RANDOM);
                return g.generateKeyPair();
            }
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            String alg = signer.getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            ContentSigner s = new JcaContentSignerBuilder(alg).build(signer);
            return new JcaX509CertificateConverter().getCertificate(b.build(s));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(String type, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n";
    }

    private static void write(Path file, String content) {
        try {
            Files.writeString(file, content, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
