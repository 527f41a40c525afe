package io.sluice.config;

/**
 * Where and how an HTTP listener logs one line per request.
 *
 * @param path a file to append to, or {@code -} for standard output
 */
public record AccessLogConfig(Format format, String path) {

    public static final Format DEFAULT_FORMAT = Format.TEXT;
    /** Standard output. */
    public static final String DEFAULT_PATH = "-";

    public enum Format {
        TEXT, JSON
    }
}
