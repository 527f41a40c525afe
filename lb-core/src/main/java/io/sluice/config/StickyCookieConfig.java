package io.sluice.config;

import java.time.Duration;

/**
 * A cookie Sluice sets on HTTP responses to pin a client to one server while that server is available.
 *
 * @param ttl      cookie lifetime (Max-Age); ZERO = a session cookie
 * @param sameSite {@code lax}, {@code strict} or {@code none}
 */
public record StickyCookieConfig(String name, Duration ttl, String path, boolean httpOnly, boolean secure,
                                 String sameSite) {

    public static final String DEFAULT_NAME = "SLUICE_STICKY";
    /** A session cookie. */
    public static final Duration DEFAULT_TTL = Duration.ZERO;
    public static final String DEFAULT_PATH = "/";
    public static final boolean DEFAULT_HTTP_ONLY = true;
    public static final boolean DEFAULT_SECURE = false;
    public static final String DEFAULT_SAME_SITE = "lax";
}
