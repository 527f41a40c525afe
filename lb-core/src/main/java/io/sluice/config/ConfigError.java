package io.sluice.config;

/**
 * One problem found in a config file. {@code line} and {@code column} are 1-based; 0 when the problem has
 * no place in the file (for example a missing top-level section).
 */
public record ConfigError(String path, int line, int column, String message) {

    @Override
    public String toString() {
        String where = path.isEmpty() ? "config" : path;
        return line > 0
                ? where + " (line " + line + ", col " + column + "): " + message
                : where + ": " + message;
    }
}
