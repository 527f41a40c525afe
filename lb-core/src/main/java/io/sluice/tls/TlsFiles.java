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
            TlsConfig.Located at = tls.clientCaAt();
            byte[] bytes = bytes(tls.clientCa(), digest, at.configPath(), at.line(), at.column(), errors);
            if (bytes != null) {
                try {
                    clientCa = PemFiles.certificates(bytes);
                } catch (IllegalArgumentException e) {
                    errors.add(new ConfigError(at.configPath(), at.line(), at.column(), tls.clientCa() + ": "
                            + e.getMessage()));
                }
            }
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
        String certKey = f.configPath() + ".cert";
        String keyKey = f.configPath() + ".key";
        byte[] certBytes = bytes(f.cert(), digest, certKey, f.line(), f.column(), errors);
        byte[] keyBytes = bytes(f.key(), digest, keyKey, f.line(), f.column(), errors);
        if (certBytes == null || keyBytes == null) {
            return null;
        }
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = PemFiles.certificates(certBytes);
        } catch (IllegalArgumentException e) {
            errors.add(new ConfigError(certKey, f.line(), f.column(), f.cert() + ": " + e.getMessage()));
            return null;
        }
        try {
            key = PemFiles.privateKey(keyBytes);
        } catch (IllegalArgumentException e) {
            errors.add(new ConfigError(keyKey, f.line(), f.column(), f.key() + ": " + e.getMessage()));
            return null;
        }
        ServerCertificate c = ServerCertificate.of(f, chain, key);
        if (!KeyMatch.matches(key, c.leaf())) {
            errors.add(new ConfigError(keyKey, f.line(), f.column(), f.key() + " does not belong to the first "
                    + "certificate in " + f.cert() + " (" + describe(c) + "); the leaf certificate must come first "
                    + "and the key must be its own"));
            return null;
        }
        if (c.notAfter().isBefore(now)) {
            errors.add(new ConfigError(certKey, f.line(), f.column(), f.cert() + ": the certificate ("
                    + describe(c) + ") expired on " + c.notAfter().truncatedTo(ChronoUnit.SECONDS)));
            return null;
        }
        Duration left = Duration.between(now, c.notAfter());
        if (left.compareTo(EXPIRY_WARNING) < 0) {
            warnings.add(new ConfigError(certKey, f.line(), f.column(), f.cert() + ": the certificate ("
                    + describe(c) + ") expires on " + c.notAfter().truncatedTo(ChronoUnit.SECONDS) + ", in "
                    + left.toDays() + " day(s)"));
        }
        return c;
    }

    static String describe(ServerCertificate c) {
        return c.names().isEmpty() ? c.leaf().getSubjectX500Principal().getName() : String.join(", ", c.names());
    }

    private static byte[] bytes(Path file, MessageDigest digest, String key, int line, int column,
                                List<ConfigError> errors) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                errors.add(new ConfigError(key, line, column, file + " is larger than 1 MiB: not a certificate or key"));
                return null;
            }
            byte[] b = Files.readAllBytes(file);
            update(digest, b);
            return b;
        } catch (NoSuchFileException e) {
            errors.add(new ConfigError(key, line, column, "cannot read " + file + ": no such file"));
        } catch (AccessDeniedException e) {
            errors.add(new ConfigError(key, line, column, "cannot read " + file + ": permission denied"));
        } catch (IOException e) {
            errors.add(new ConfigError(key, line, column, "cannot read " + file + ": " + e.getMessage()));
        }
        return null;
    }

    private static void update(MessageDigest digest, byte[] bytes) {
        // The length first, so that bytes moving from one file to the next still change the digest.
        digest.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
        digest.update(bytes);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
