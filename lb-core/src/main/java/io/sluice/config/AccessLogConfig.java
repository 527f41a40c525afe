package io.sluice.config;

/**
 * Where and how an HTTP listener logs one line per request.
 *
 * @param path a file to append to, or {@code -} for standard output
 */
public record AccessLogConfig(Format format, String path) {

    public enum Format {
        TEXT, JSON
    }
}
