package io.sluice.runtime;

import io.sluice.config.ConfigError;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.tls.TlsCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The YAML file a running Sluice was started from, read again for each reload. Loading it is the one check
 * {@code sluice check}, start and reload share: the YAML, then what it points at (certificate files).
 */
public record ConfigFile(Path path) {

    /**
     * A validated config, the SHA-256 of the bytes it was read from, and warnings that do not stop it (a
     * certificate that expires soon).
     */
    public record Loaded(SluiceConfig config, String sha256, List<ConfigError> warnings) {
    }

    public Loaded load() throws ConfigException, IOException {
        byte[] bytes = Files.readAllBytes(path);
        // The bytes hashed are the bytes parsed: the hash in force always names the config in force.
        SluiceConfig config = ConfigLoader.parse(bytes);
        TlsCheck.Findings tls = TlsCheck.check(config);
        if (!tls.errors().isEmpty()) {
            List<ConfigError> errors = new ArrayList<>(tls.errors());
            errors.sort((a, b) -> Integer.compare(a.line(), b.line()));
            throw new ConfigException(errors);
        }
        return new Loaded(config, sha256(bytes), tls.warnings());
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
