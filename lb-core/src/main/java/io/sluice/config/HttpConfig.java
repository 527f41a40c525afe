package io.sluice.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

/**
 * HTTP settings of a listener with {@code protocol: http}.
 *
 * @param maxRequestLine   longest request line accepted; longer gets 414
 * @param maxHeaderSize    total size of the header section; larger gets 431
 * @param maxHeaders       most header fields in one request; more gets 431
 * @param maxBodySize      request body limit (413) for routes that set none; 0 = unlimited
 * @param headerTimeout    a request head must arrive completely within this time of its first byte (or of the
 *                         connection's start); else 408 and close
 * @param keepaliveTimeout an idle keep-alive connection with no new request for this long is closed; 0 = never
 * @param responseTimeout  time from the end of the request to the response head; else 504; 0 = none
 * @param forwarded        also send an RFC 7239 Forwarded header
 * @param via              add a Via header to requests and responses
 * @param retries          times an idempotent request (with no body, or one of at most 64 KiB) is sent again (to
 *                         another server where there is one) when the connection fails before any response byte
 * @param retryBudget      retries may be at most this percent of the listener's requests of the last 10 s (3 are always
 *                         allowed), so retries cannot multiply the load of an overloaded cluster
 * @param accessLog        one line per request, or null for none
 * @param redirectHttps    a plain listener answers every request with a 301 to the same host and path over https
 * @param hsts             the Strict-Transport-Security value added to responses on a TLS listener; null = none
 * @param h2c              cleartext HTTP/2 is accepted: by prior knowledge (the connection preface) and by
 *                         {@code Upgrade: h2c}
 * @param trustedProxies   clients whose forwarding headers (X-Forwarded-For, Forwarded, X-Forwarded-Proto and
 *                         -Host) are believed and added to; any other client's are replaced. Empty: trust nobody
 * @param sendTimeout      a client that takes none of its response for this long (the bytes waiting to be sent
 *                         to it do not move) is closed; 0 = never
 */
public record HttpConfig(int maxRequestLine, int maxHeaderSize, int maxHeaders, long maxBodySize,
                         Duration headerTimeout, Duration keepaliveTimeout, Duration responseTimeout,
                         boolean forwarded, boolean via, int retries, int retryBudget,
                         AccessLogConfig accessLog, boolean redirectHttps, String hsts, boolean h2c,
                         List<Cidr> trustedProxies, Duration sendTimeout) {

    public static final int DEFAULT_MAX_REQUEST_LINE = 8 * 1024;
    public static final int DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
    public static final int DEFAULT_MAX_HEADERS = 100;
    /** Unlimited. */
    public static final long DEFAULT_MAX_BODY_SIZE = 0;
    public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(30);
    public static final boolean DEFAULT_FORWARDED = false;
    public static final boolean DEFAULT_VIA = true;
    public static final int DEFAULT_RETRIES = 1;
    public static final int DEFAULT_RETRY_BUDGET = 20;
    /** No access log. */
    public static final AccessLogConfig DEFAULT_ACCESS_LOG = null;
    public static final boolean DEFAULT_REDIRECT_HTTPS = false;
    /** No Strict-Transport-Security header. */
    public static final String DEFAULT_HSTS = null;
    public static final boolean DEFAULT_H2C = true;
    public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);
    /** Nobody: every client's forwarding headers are replaced, as NGINX and HAProxy setups usually do. */
    public static final List<Cidr> DEFAULT_TRUSTED_PROXIES = List.of();
    public static final HttpConfig DEFAULT = new HttpConfig(DEFAULT_MAX_REQUEST_LINE, DEFAULT_MAX_HEADER_SIZE,
            DEFAULT_MAX_HEADERS, DEFAULT_MAX_BODY_SIZE, DEFAULT_HEADER_TIMEOUT, DEFAULT_KEEPALIVE_TIMEOUT,
            DEFAULT_RESPONSE_TIMEOUT, DEFAULT_FORWARDED, DEFAULT_VIA, DEFAULT_RETRIES, DEFAULT_RETRY_BUDGET,
            DEFAULT_ACCESS_LOG, DEFAULT_REDIRECT_HTTPS, DEFAULT_HSTS, DEFAULT_H2C, DEFAULT_TRUSTED_PROXIES,
            DEFAULT_SEND_TIMEOUT);

    public HttpConfig {
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** Whether {@code client} (as {@code ClientSource} knows it) is one of {@link #trustedProxies}. */
    public boolean trustsProxy(InetSocketAddress client) {
        if (client == null || client.getAddress() == null) {
            return false;
        }
        for (Cidr c : trustedProxies) {
            if (c.contains(client.getAddress())) {
                return true;
            }
        }
        return false;
    }
}
