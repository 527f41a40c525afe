package io.sluice.tls;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM as certbot, cert-manager and openssl write it: certificates (leaf first, then intermediates) and a PKCS#8
 * private key. Other key formats get an error that says how to convert them, rather than a parser's complaint.
 * Every failure is an {@link IllegalArgumentException} whose message is fit for an operator.
 */
final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final String CONVERT = "convert it with: openssl pkcs8 -topk8 -nocrypt -in OLD.key -out NEW.key";
    /** Key algorithms a PKCS#8 key is tried as, most common first. */
    private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS");

    private PemFiles() {
    }

    /** The certificates of a PEM file in file order; at least one. */
    static List<X509Certificate> certificates(byte[] pem) {
        List<Block> blocks = blocks(pem);
        List<X509Certificate> out = new ArrayList<>();
        try {
            CertificateFactory f = CertificateFactory.getInstance("X.509");
            for (Block b : blocks) {
                if (b.type.equals("CERTIFICATE")) {
                    out.add((X509Certificate) f.generateCertificate(new ByteArrayInputStream(b.der)));
                }
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid certificate: " + e.getMessage());
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no complete PEM certificate (-----BEGIN CERTIFICATE----- ... "
                    + "-----END CERTIFICATE-----) in the file" + (blocks.isEmpty() ? "" : "; found " + blocks.get(0).type));
        }
        return out;
    }

    /** The one private key of a PEM file, PKCS#8 and unencrypted. */
    static PrivateKey privateKey(byte[] pem) {
        List<Block> blocks = blocks(pem);
        for (Block b : blocks) {
            switch (b.type) {
                case "PRIVATE KEY" -> {
                    return pkcs8(b.der);
                }
                case "RSA PRIVATE KEY", "EC PRIVATE KEY" -> throw new IllegalArgumentException("the key is in the "
                        + (b.type.startsWith("RSA") ? "PKCS#1" : "SEC1") + " format (BEGIN " + b.type + "); Sluice "
                        + "reads PKCS#8 (BEGIN PRIVATE KEY): " + CONVERT);
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("the key is encrypted; Sluice "
                        + "reads unencrypted PKCS#8 keys (protect the file instead): "
                        + "openssl pkcs8 -in OLD.key -out NEW.key");
                default -> {
                    // certificates and parameters beside the key are allowed
                }
            }
        }
        throw new IllegalArgumentException("no complete PEM private key (-----BEGIN PRIVATE KEY----- ... "
                + "-----END PRIVATE KEY-----) in the file");
    }

    private static PrivateKey pkcs8(byte[] der) {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new IllegalArgumentException("the PKCS#8 key is of none of the kinds " + KEY_ALGORITHMS
                + " or is damaged");
    }

    private record Block(String type, byte[] der) {
    }

    private static List<Block> blocks(byte[] pem) {
        String text = new String(pem, StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        List<Block> out = new ArrayList<>();
        while (m.find()) {
            try {
                out.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("damaged PEM (" + m.group(1) + "): " + e.getMessage());
            }
        }
        return out;
    }
}
