package io.sluice.admin;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The effective configuration as JSON, every default filled in, written from the config records themselves
 * so that it cannot drift from what the loader accepts. Keys are the records' names in YAML's snake_case.
 * Files named by the config (token, certificates) appear by path only, never by content.
 */
final class ConfigJson {
    private ConfigJson() {
    }

    static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.append('\n').toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String || v instanceof Path || v instanceof Pattern) {
            b.append(Json.quote(v.toString()));
        } else if (v instanceof Number || v instanceof Boolean) {
            b.append(v);
        } else if (v instanceof Duration d) {
            b.append(Json.quote(duration(d)));
        } else if (v instanceof Enum<?> e) {
            b.append(Json.quote(e.name().toLowerCase(Locale.ROOT)));
        } else if (v instanceof Collection<?> c) {
            b.append('[');
            boolean first = true;
            for (Object o : c) {
                b.append(first ? "" : ",");
                first = false;
                write(b, o);
            }
            b.append(']');
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "" : ",").append(Json.quote(String.valueOf(e.getKey()))).append(':');
                first = false;
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v.getClass().isRecord() && !isAddress(v)) {
            b.append('{');
            boolean first = true;
            for (RecordComponent rc : v.getClass().getRecordComponents()) {
                Object field;
                try {
                    field = rc.getAccessor().invoke(v);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
                b.append(first ? "" : ",").append(Json.quote(snake(rc.getName()))).append(':');
                first = false;
                write(b, field);
            }
            b.append('}');
        } else {
            b.append(Json.quote(v.toString()));
        }
    }

    /** Addresses read best as the text the config was written with. */
    private static boolean isAddress(Object v) {
        return v instanceof io.sluice.config.HostPort;
    }

    static String snake(String camel) {
        StringBuilder b = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                b.append('_').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The config's own duration syntax: 1h30m, 500ms, 0. */
    static String duration(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        long ms = d.toMillis();
        StringBuilder b = new StringBuilder();
        long[] units = {86_400_000L, 3_600_000L, 60_000L, 1000L, 1L};
        String[] names = {"d", "h", "m", "s", "ms"};
        for (int i = 0; i < units.length; i++) {
            if (ms >= units[i]) {
                b.append(ms / units[i]).append(names[i]);
                ms %= units[i];
            }
        }
        return b.toString();
    }
}
