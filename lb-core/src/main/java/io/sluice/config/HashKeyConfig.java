package io.sluice.config;

import java.util.Locale;

/**
 * A cluster's {@code hash_key}: what ring_hash and maglev hash to place work. This is the only grammar of the
 * key; the loader validates with it and the runtime hashes what it names, so the two cannot drift apart.
 *
 * @param name the header, cookie or query parameter name; null for source_ip, path and sni. Header names are
 *             kept in lower case because HTTP compares them without case; cookie and query names are not.
 */
public record HashKeyConfig(Kind kind, String name) {
    public enum Kind { SOURCE_IP, HEADER, COOKIE, PATH, QUERY, SNI }

    public static final HashKeyConfig SOURCE_IP = new HashKeyConfig(Kind.SOURCE_IP, null);
    /** The server name of a TLS ClientHello, read by TCP listeners without {@code tls} (SNI passthrough). */
    public static final HashKeyConfig SNI = new HashKeyConfig(Kind.SNI, null);
    public static final HashKeyConfig PATH = new HashKeyConfig(Kind.PATH, null);

    public HashKeyConfig {
        boolean named = kind == Kind.HEADER || kind == Kind.COOKIE || kind == Kind.QUERY;
        if (named != (name != null) || (named && !Values.isToken(name))) {
            throw new IllegalArgumentException("hash_key " + kind + " with name " + name);
        }
        if (kind == Kind.HEADER) {
            name = name.toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Parses {@code source_ip}, {@code sni}, {@code path}, {@code header:NAME}, {@code cookie:NAME} or
     * {@code query:NAME} (NAME a token); the exception's message is the one the loader reports.
     */
    public static HashKeyConfig parse(String text) {
        if ("source_ip".equals(text)) {
            return SOURCE_IP;
        }
        if ("path".equals(text)) {
            return PATH;
        }
        if ("sni".equals(text)) {
            return SNI;
        }
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon > 0) {
            String name = text.substring(colon + 1);
            Kind kind = switch (text.substring(0, colon)) {
                case "header" -> Kind.HEADER;
                case "cookie" -> Kind.COOKIE;
                case "query" -> Kind.QUERY;
                default -> null;
            };
            if (kind != null && Values.isToken(name)) {
                return new HashKeyConfig(kind, name);
            }
        }
        throw new IllegalArgumentException("expected source_ip, sni, path, header:NAME, cookie:NAME or query:NAME, "
                + "got \"" + text + "\"");
    }

    /** True for keys only an HTTP request carries; an L4 connection is then placed by the fallback. */
    public boolean needsRequest() {
        return kind != Kind.SOURCE_IP && kind != Kind.SNI;
    }

    /** The YAML spelling, with the header name in lower case. */
    @Override
    public String toString() {
        return switch (kind) {
            case SOURCE_IP -> "source_ip";
            case PATH -> "path";
            case SNI -> "sni";
            default -> kind.name().toLowerCase(Locale.ROOT) + ":" + name;
        };
    }
}
