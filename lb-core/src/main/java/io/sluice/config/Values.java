package io.sluice.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The one place where durations, sizes and tokens are parsed, so every key accepts the same spellings. */
public final class Values {
    /** RFC 9110 token characters: what header names, cookie names and methods may be made of. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|KB|MB|GB|k|K|M|G)?");

    private Values() {
    }

    /**
     * Parses {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h30m}, {@code 1d} or {@code 0}; null when malformed.
     * A bare number other than 0 is refused: "30" could mean seconds or milliseconds and ops should not guess.
     */
    public static Duration parseDuration(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at) {
                return null;
            }
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                return null;
            }
            total = switch (m.group(2)) {
                case "ms" -> total.plusMillis(n);
                case "s" -> total.plusSeconds(n);
                case "m" -> total.plusMinutes(n);
                case "h" -> total.plusHours(n);
                default -> total.plusDays(n);
            };
            at = m.end();
        }
        return at == 0 ? null : total;
    }

    /** Parses {@code 65536}, {@code 64KiB}, {@code 1MiB}, {@code 2GiB} (KB/MB/GB and k/M/G are binary too); -1 when malformed. */
    public static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            return -1;
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        long mult = switch (unit.charAt(0)) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> 1;
        };
        if (n > Long.MAX_VALUE / mult) {
            return -1;
        }
        return n * mult;
    }

    /** True when {@code text} is a non-empty RFC 9110 token (a header name, a cookie name, a method). */
    public static boolean isToken(String text) {
        return text != null && TOKEN.matcher(text).matches();
    }

    private static final java.util.regex.Pattern HOST_NAME = java.util.regex.Pattern.compile(
            "(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*");
    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("[0-9.]+");

    /** A DNS host name (labels of letters, digits, - and _), not an IP address: what TLS's SNI may carry. */
    public static boolean isHostName(String text) {
        return text != null && HOST_NAME.matcher(text).matches() && !IPV4.matcher(text).matches();
    }

    /** Formats a duration the way the config spells it, for messages and the reference. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0";
        }
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
