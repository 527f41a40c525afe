package io.sluice.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.sluice.config.HttpConfig;
import io.sluice.config.RouteConfig;

/** The header edits a proxy makes on the way through (RFC 9110 section 7.6) plus the route's own edits. */
final class HeaderPolicy {
    // AsciiString names carry their hash: header lookups with them skip hashing the name every request.
    // HeadWords' constants: a HeadFields table finds them by their id.
    static final AsciiString X_FORWARDED_FOR = HeadWords.X_FORWARDED_FOR;
    static final AsciiString X_FORWARDED_PROTO = HeadWords.X_FORWARDED_PROTO;
    static final AsciiString X_FORWARDED_HOST = HeadWords.X_FORWARDED_HOST;
    static final AsciiString X_REQUEST_ID = HeadWords.X_REQUEST_ID;
    private static final AsciiString PROXY_CONNECTION = HttpHeaderNames.PROXY_CONNECTION;
    private static final AsciiString FORWARDED = HeadWords.FORWARDED;
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");
    /** Besides Connection and the fields it names. */
    private static final HeadFields.NameSet HOP_BY_HOP = new HeadFields.NameSet(HttpHeaderNames.KEEP_ALIVE,
            PROXY_CONNECTION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE);
    /** What an untrusted client says of where its request came from. */
    private static final HeadFields.NameSet FORWARDING = new HeadFields.NameSet(X_FORWARDED_FOR, X_FORWARDED_PROTO,
            X_FORWARDED_HOST, FORWARDED);
    // Constants, not strings: an HTTP/2 client's HPACK hashes and compares the value by its bytes, hash cached.
    private static final AsciiString VIA_11 = AsciiString.cached("1.1 sluice");
    private static final AsciiString VIA_10 = AsciiString.cached("1.0 sluice");

    private HeaderPolicy() {
    }

    /**
     * Removes the headers meant for this hop only. Tokens of Connection name more of them; but a token naming
     * a framing header or Host is ignored, as stripping those would let a client change how the next hop
     * reads the message.
     */
    static void removeHopByHop(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONNECTION)) {
            // Nearly always "keep-alive" or "close", which name nothing to remove: said without strings.
            if (!(h instanceof HeadFields f)
                    || !f.elementsOnly(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE, HttpHeaderValues.CLOSE)) {
                for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
                    removeNamedIn(value, h);
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        HOP_BY_HOP.removeFrom(h);
    }

    /**
     * A quoted-string (RFC 9110 5.6.4) of what the client sent as its host: a quote or backslash in it is escaped,
     * so it cannot end the string and add a forwarded element of its own (RFC 7239 4).
     */
    static String quoted(String value) {
        if (value.indexOf('"') < 0 && value.indexOf('\\') < 0) {
            return '"' + value + '"';
        }
        StringBuilder b = new StringBuilder(value.length() + 8).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').toString();
    }

    /** Removes the headers a Connection value names (a comma-separated token list). */
    private static void removeNamedIn(String value, HttpHeaders h) {
        int start = 0;
        int n = value.length();
        while (start <= n) {
            int comma = value.indexOf(',', start);
            int end = comma < 0 ? n : comma;
            String name = value.substring(start, end).trim();
            if (!name.isEmpty() && !isProtected(name) && !HttpHeaderValues.KEEP_ALIVE.contentEqualsIgnoreCase(name)
                    && !HttpHeaderValues.CLOSE.contentEqualsIgnoreCase(name)) {
                h.remove(name);
            }
            start = end + 1;
        }
    }

    private static boolean isProtected(String name) {
        return name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("transfer-encoding")
                || name.equalsIgnoreCase("host");
    }

    /**
     * Adds X-Forwarded-*, Forwarded (optional), Via and X-Request-Id to a request about to be forwarded;
     * {@code secure}: the client connection is TLS (proto https). A {@code trusted} client (a proxy in
     * {@code http.trusted_proxies}) has its X-Forwarded-For and Forwarded added to and its X-Forwarded-Proto and
     * -Host kept; anyone else's are replaced (Forwarded dropped when Sluice sends none), so a client cannot put
     * an address of its choosing in front of its own.
     */
    static void forwardRequest(HttpRequest req, String clientIp, boolean ipv6, String host, HttpConfig http,
                               boolean secure, boolean trusted) {
        HttpHeaders h = req.headers();
        String ip = clientIp == null ? "unknown" : clientIp;
        if (!trusted) {
            FORWARDING.removeFrom(h);
            // Gone now: added without looking for them again. The host is the client's, checked as a client's.
            addOwn(h, X_FORWARDED_FOR, ip);
            addOwn(h, X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
            if (host != null) {
                addOwn(h, X_FORWARDED_HOST, HeadFields.checkedValue(host));
            }
        } else {
            appendToList(h, X_FORWARDED_FOR, ip);
            if (!h.contains(X_FORWARDED_PROTO)) {
                addOwn(h, X_FORWARDED_PROTO, secure ? HTTPS : HTTP);
            }
            if (host != null && !h.contains(X_FORWARDED_HOST)) {
                h.set(X_FORWARDED_HOST, host);
            }
        }
        if (http.forwarded()) {
            String node = ipv6 ? "\"[" + ip + "]\"" : ip;
            String element = "for=" + node + (host != null ? ";host=" + quoted(host) : "") + (secure ? ";proto=https" : ";proto=http");
            appendToList(h, FORWARDED, element);
        }
        if (http.via()) {
            appendVia(h, req.protocolVersion());
        }
        if (!h.contains(X_REQUEST_ID)) {
            addOwn(h, X_REQUEST_ID, RequestId.random());
        }
    }

    /**
     * Adds a field Sluice makes (a constant name, a value of its own: the client's IP address as the socket gave
     * it, a constant, a request id) that {@code h} does not have: into a {@link HeadFields} table without checking
     * its characters again, as {@code set} would.
     */
    private static void addOwn(HttpHeaders h, AsciiString name, CharSequence value) {
        if (h instanceof HeadFields f) {
            f.addOwn(name, value);
        } else {
            h.set(name, value);
        }
    }

    static void appendVia(HttpHeaders h, HttpVersion version) {
        CharSequence hop = version == HttpVersion.HTTP_1_1 ? VIA_11 : version == HttpVersion.HTTP_1_0 ? VIA_10
                : version.majorVersion() + "." + version.minorVersion() + " sluice";
        appendToList(h, HttpHeaderNames.VIA, hop);
    }

    /**
     * Appends an element to a list header; several header lines are one list (RFC 9110 5.3), joined here. The
     * element may carry what a client sent (the host in Forwarded), so its characters are checked.
     */
    private static void appendToList(HttpHeaders h, AsciiString name, CharSequence element) {
        if (!h.contains(name)) {
            addOwn(h, name, HeadFields.checkedValue(element));
        } else {
            h.set(name, String.join(", ", h.getAll(name)) + ", " + element);
        }
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
}
