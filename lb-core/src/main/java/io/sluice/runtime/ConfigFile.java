package io.sluice.runtime;

import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The YAML file a running Sluice was started from, read again for each reload. */
public record ConfigFile(Path path) {

    /** A validated config and the SHA-256 of the bytes it was read from. */
    public record Loaded(SluiceConfig config, String sha256) {
    }

    public Loaded load() throws ConfigException, IOException {
        byte[] bytes = Files.readAllBytes(path);
        // The bytes hashed are the bytes parsed: the hash in force always names the config in force.
        return new Loaded(ConfigLoader.parse(bytes), sha256(bytes));
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
