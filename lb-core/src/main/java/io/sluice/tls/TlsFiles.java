package io.sluice.tls;

import io.sluice.config.ConfigError;
import io.sluice.config.TlsConfig;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads the files of a listener's {@code tls} section and holds them to what a handshake needs: every file
 * readable, a PEM chain and a PKCS#8 key that belongs to its leaf, not expired (an error) and not expiring within
 * {@link #EXPIRY_WARNING} (a warning), and the client CA when there is one. Runs off the event loops: at
 * {@code sluice check}, start, reload and each change the rotation poll sees.
 */
final class TlsFiles {
    static final Duration EXPIRY_WARNING = Duration.ofDays(14);
    /** Certificate and key files are small; a larger file is a mistake (a log, a bundle of the world's CAs). */
    static final long MAX_FILE_BYTES = 1 << 20;

    private TlsFiles() {
    }

    /** Reads and checks everything; throws {@link TlsFileException} listing every problem found. */
    static TlsMaterial load(TlsConfig tls, Instant now) {
        List<ConfigError> errors = new ArrayList<>();
        List<ConfigError> warnings = new ArrayList<>();
        MessageDigest digest = sha256();
        List<ServerCertificate> certificates = new ArrayList<>();
        for (TlsConfig.CertificateFiles f : tls.certificates()) {
            ServerCertificate c = read(f, now, digest, errors, warnings);
            if (c != null) {
                certificates.add(c);
            }
        }
        List<X509Certificate> clientCa = List.of();
        if (tls.clientCa() != null) {
            List<X509Certificate> read = certificates(tls.clientCa(), digest, tls.clientCaAt(), errors);
            clientCa = read == null ? List.of() : read;
        }
        if (!errors.isEmpty()) {
            throw new TlsFileException(errors);
        }
        return new TlsMaterial(certificates, clientCa, HexFormat.of().formatHex(digest.digest()), warnings);
    }

    /**
     * The SHA-256 of the files' bytes as they are now, following symlinks (so a swapped {@code ..data} link or
     * certbot's {@code live/} link counts as a change); null when one cannot be read at this moment.
     */
    static String digest(TlsConfig tls) {
        MessageDigest digest = sha256();
        try {
            for (TlsConfig.CertificateFiles f : tls.certificates()) {
                update(digest, Files.readAllBytes(f.cert()));
                update(digest, Files.readAllBytes(f.key()));
            }
            if (tls.clientCa() != null) {
                update(digest, Files.readAllBytes(tls.clientCa()));
            }
        } catch (IOException e) {
            return null;
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static ServerCertificate read(TlsConfig.CertificateFiles f, Instant now, MessageDigest digest,
                                          List<ConfigError> errors, List<ConfigError> warnings) {
        Pair p = pair(f.cert(), new TlsConfig.Located(f.configPath() + ".cert", f.line(), f.column()), f.key(),
                new TlsConfig.Located(f.configPath() + ".key", f.line(), f.column()), now, digest, errors, warnings);
        return p == null ? null : ServerCertificate.of(f, p.chain(), p.key());
    }

    /** A certificate chain and the private key of its leaf. */
    record Pair(List<X509Certificate> chain, PrivateKey key) {
    }

    /**
     * Reads a chain and its key and holds them to what a handshake needs: the key belongs to the leaf, which is
     * not expired (an error) nor expiring within {@link #EXPIRY_WARNING} (a warning). Null after an error.
     */
    static Pair pair(Path cert, TlsConfig.Located certAt, Path key, TlsConfig.Located keyAt, Instant now,
                     MessageDigest digest, List<ConfigError> errors, List<ConfigError> warnings) {
        byte[] certBytes = bytes(cert, digest, certAt, errors);
        byte[] keyBytes = bytes(key, digest, keyAt, errors);
        if (certBytes == null || keyBytes == null) {
            return null;
        }
        List<X509Certificate> chain = certificates(cert, certBytes, certAt, errors);
        if (chain == null) {
            return null;
        }
        PrivateKey privateKey;
        try {
            privateKey = PemFiles.privateKey(keyBytes);
        } catch (IllegalArgumentException e) {
            errors.add(error(keyAt, key + ": " + e.getMessage()));
            return null;
        }
        X509Certificate leaf = chain.get(0);
        if (!KeyMatch.matches(privateKey, leaf)) {
            errors.add(error(keyAt, key + " does not belong to the first certificate in " + cert + " ("
                    + describe(leaf) + "); the leaf certificate must come first and the key must be its own"));
            return null;
        }
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (notAfter.isBefore(now)) {
            errors.add(error(certAt, cert + ": the certificate (" + describe(leaf) + ") expired on "
                    + notAfter.truncatedTo(ChronoUnit.SECONDS)));
            return null;
        }
        Duration left = Duration.between(now, notAfter);
        if (left.compareTo(EXPIRY_WARNING) < 0) {
            warnings.add(error(certAt, cert + ": the certificate (" + describe(leaf) + ") expires on "
                    + notAfter.truncatedTo(ChronoUnit.SECONDS) + ", in " + left.toDays() + " day(s)"));
        }
        return new Pair(chain, privateKey);
    }

    /** The certificates of a PEM file (CA certificates, or a chain); null after an error. */
    static List<X509Certificate> certificates(Path file, MessageDigest digest, TlsConfig.Located at,
                                              List<ConfigError> errors) {
        byte[] bytes = bytes(file, digest, at, errors);
        return bytes == null ? null : certificates(file, bytes, at, errors);
    }

    private static List<X509Certificate> certificates(Path file, byte[] bytes, TlsConfig.Located at,
                                                      List<ConfigError> errors) {
        try {
            return PemFiles.certificates(bytes);
        } catch (IllegalArgumentException e) {
            errors.add(error(at, file + ": " + e.getMessage()));
            return null;
        }
    }

    static String describe(ServerCertificate c) {
        return describe(c.leaf());
    }

    private static String describe(X509Certificate leaf) {
        List<String> names = ServerCertificate.names(leaf);
        return names.isEmpty() ? leaf.getSubjectX500Principal().getName() : String.join(", ", names);
    }

    private static ConfigError error(TlsConfig.Located at, String message) {
        return new ConfigError(at.configPath(), at.line(), at.column(), message);
    }

    private static byte[] bytes(Path file, MessageDigest digest, TlsConfig.Located at, List<ConfigError> errors) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                errors.add(error(at, file + " is larger than 1 MiB: not a certificate or key"));
                return null;
            }
            byte[] b = Files.readAllBytes(file);
            update(digest, b);
            return b;
        } catch (NoSuchFileException e) {
            errors.add(error(at, "cannot read " + file + ": no such file"));
        } catch (AccessDeniedException e) {
            errors.add(error(at, "cannot read " + file + ": permission denied"));
        } catch (IOException e) {
            errors.add(error(at, "cannot read " + file + ": " + e.getMessage()));
        }
        return null;
    }

    private static void update(MessageDigest digest, byte[] bytes) {
        // The length first, so that bytes moving from one file to the next still change the digest.
        digest.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
        digest.update(bytes);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
