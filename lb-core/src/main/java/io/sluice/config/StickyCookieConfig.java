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
}
