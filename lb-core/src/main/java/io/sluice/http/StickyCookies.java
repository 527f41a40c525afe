package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import io.sluice.config.StickyCookieConfig;
import java.util.List;

/** Reading and writing the session-affinity cookie. */
final class StickyCookies {
    private StickyCookies() {
    }

    /** The value of cookie {@code name} in the request, or null. */
    static String value(HttpRequest request, String name) {
        List<String> headers = request.headers().getAll(HttpHeaderNames.COOKIE);
        for (String header : headers) {
            // LAX: a browser's odd neighbour cookie must not hide ours.
            for (Cookie c : ServerCookieDecoder.LAX.decodeAll(header)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    static String encode(StickyCookieConfig config, String value) {
        DefaultCookie c = new DefaultCookie(config.name(), value);
        c.setPath(config.path());
        c.setHttpOnly(config.httpOnly());
        c.setSecure(config.secure());
        c.setSameSite(switch (config.sameSite()) {
            case "strict" -> CookieHeaderNames.SameSite.Strict;
            case "none" -> CookieHeaderNames.SameSite.None;
            default -> CookieHeaderNames.SameSite.Lax;
        });
        if (!config.ttl().isZero()) {
            c.setMaxAge(config.ttl().toSeconds());
        }
        return ServerCookieEncoder.STRICT.encode(c);
    }
}
