package io.sluice.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The admin bearer token, read from {@code admin.token_file}: the file's text without surrounding space. */
public final class AdminToken {
    private static final long MAX_BYTES = 4096;

    private AdminToken() {
    }

    /** Reads the token; throws when the file is unreadable, empty or too long. */
    public static String read(Path file) throws IOException {
        if (Files.size(file) > MAX_BYTES) {
            throw new IOException("token file " + file + " is larger than " + MAX_BYTES + " bytes");
        }
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.isEmpty()) {
            throw new IOException("token file " + file + " is empty");
        }
        return token;
    }
}
