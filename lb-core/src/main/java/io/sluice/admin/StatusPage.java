package io.sluice.admin;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The status page: one self-contained HTML file in the jar (no CDN, no build step), read once. */
final class StatusPage {
    private static final String HTML = load();

    private StatusPage() {
    }

    static String html() {
        return HTML;
    }

    private static String load() {
        try (InputStream in = StatusPage.class.getResourceAsStream("status.html")) {
            if (in == null) {
                throw new IllegalStateException("status.html missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("__LATENCY_BUCKETS_MS__", ClusterJson.bucketBounds());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
