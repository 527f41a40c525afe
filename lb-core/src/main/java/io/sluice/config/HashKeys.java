package io.sluice.config;

/** Syntax of {@code hash_key} values. */
public final class HashKeys {
    private HashKeys() {
    }

    public static boolean isValid(String key) {
        if (key.equals("source_ip") || key.equals("path")) {
            return true;
        }
        int colon = key.indexOf(':');
        if (colon < 0 || colon == key.length() - 1) {
            return false;
        }
        String kind = key.substring(0, colon);
        String name = key.substring(colon + 1);
        return (kind.equals("header") || kind.equals("cookie") || kind.equals("query")) && name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    }
}
