package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.HttpConfig;
import io.sluice.config.RouteConfig;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** The header edits a proxy makes on the way through (RFC 9110 section 7.6) plus the route's own edits. */
final class HeaderPolicy {
    static final String X_FORWARDED_FOR = "x-forwarded-for";
    static final String X_FORWARDED_PROTO = "x-forwarded-proto";
    static final String X_FORWARDED_HOST = "x-forwarded-host";
    static final String X_REQUEST_ID = "x-request-id";
    private static final String PROXY_CONNECTION = "proxy-connection";
    private static final String FORWARDED = "forwarded";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private HeaderPolicy() {
    }

    /**
     * Removes the headers meant for this hop only. Tokens of Connection name more of them; but a token naming
     * a framing header or Host is ignored, as stripping those would let a client change how the next hop
     * reads the message.
     */
    static void removeHopByHop(HttpHeaders h) {
        for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
            for (String token : value.split(",")) {
                String name = token.trim();
                if (!name.isEmpty() && !isProtected(name)) {
                    h.remove(name);
                }
            }
        }
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(PROXY_CONNECTION);
        h.remove(HttpHeaderNames.TE);
        h.remove(HttpHeaderNames.TRAILER);
        h.remove(HttpHeaderNames.UPGRADE);
    }

    private static boolean isProtected(String name) {
        return name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("transfer-encoding")
                || name.equalsIgnoreCase("host");
    }

    /** Adds X-Forwarded-*, Forwarded (optional), Via and X-Request-Id to a request about to be forwarded. */
    static void forwardRequest(HttpRequest req, InetSocketAddress client, String host, HttpConfig http) {
        HttpHeaders h = req.headers();
        String ip = client == null ? "unknown" : client.getAddress().getHostAddress();
        List<String> xff = h.getAll(X_FORWARDED_FOR);
        if (xff.isEmpty()) {
            h.set(X_FORWARDED_FOR, ip);
        } else {
            // Several header lines are one list (RFC 9110 5.3): join them, then append this hop.
            h.set(X_FORWARDED_FOR, String.join(", ", xff) + ", " + ip);
        }
        h.set(X_FORWARDED_PROTO, "http");
        if (host != null) {
            h.set(X_FORWARDED_HOST, host);
        }
        if (http.forwarded()) {
            String node = client != null && client.getAddress() instanceof Inet6Address ? "\"[" + ip + "]\"" : ip;
            String element = "for=" + node + (host != null ? ";host=\"" + host + "\"" : "") + ";proto=http";
            List<String> prior = h.getAll(FORWARDED);
            h.set(FORWARDED, prior.isEmpty() ? element : String.join(", ", prior) + ", " + element);
        }
        if (http.via()) {
            appendVia(h, req.protocolVersion());
        }
        if (!h.contains(X_REQUEST_ID)) {
            h.set(X_REQUEST_ID, requestId());
        }
    }

    static void appendVia(HttpHeaders h, HttpVersion version) {
        String hop = version.majorVersion() + "." + version.minorVersion() + " sluice";
        List<String> prior = h.getAll(HttpHeaderNames.VIA);
        h.set(HttpHeaderNames.VIA, prior.isEmpty() ? hop : String.join(", ", prior) + ", " + hop);
    }

    static void apply(RouteConfig.HeaderRules rules, HttpHeaders h) {
        if (rules.isEmpty()) {
            return;
        }
        for (String name : rules.remove()) {
            h.remove(name);
        }
        for (RouteConfig.Header e : rules.set()) {
            h.set(e.name(), e.value());
        }
        for (RouteConfig.Header e : rules.add()) {
            h.add(e.name(), e.value());
        }
    }

    /** 128 random bits in hex: unique enough to correlate logs, and cheaper than a SecureRandom UUID. */
    static String requestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] out = new char[32];
        long a = r.nextLong();
        long b = r.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xf];
            out[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xf];
        }
        return new String(out);
    }
}
