package io.sluice.balance;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sluice.config.HashKeyConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * How to turn what a cluster's {@code hash_key} names ({@link HashKeyConfig}, which owns the grammar) into
 * the 64-bit hash that ring_hash and maglev read from {@link PickContext#hash()}. The hash is computed once
 * per connection or request by the caller (the L4 path for {@code source_ip}, the HTTP layer for the others),
 * never per pick. Every hash is xxHash64 with a fixed seed, so every Sluice instance maps the same key to the
 * same server.
 */
public final class HashKey {
    public static final HashKey SOURCE_IP = new HashKey(HashKeyConfig.SOURCE_IP);

    private final HashKeyConfig config;
    private final HashKeyConfig.Kind kind;
    private final String name;

    private HashKey(HashKeyConfig config) {
        this.config = config;
        this.kind = config.kind();
        this.name = config.name();
    }

    public static HashKey of(HashKeyConfig config) {
        return config.kind() == HashKeyConfig.Kind.SOURCE_IP ? SOURCE_IP : new HashKey(config);
    }

    public HashKeyConfig.Kind kind() {
        return kind;
    }

    /** True for keys only an HTTP request carries; an L4 connection then always uses the fallback. */
    public boolean needsRequest() {
        return config.needsRequest();
    }

    /**
     * Sets {@code ctx}'s hash from its source address when this key is {@code source_ip}; otherwise leaves
     * it unset. Returns whether a hash was set.
     */
    public boolean applySource(PickContext ctx) {
        if (kind != HashKeyConfig.Kind.SOURCE_IP) {
            return false;
        }
        InetSocketAddress source = ctx.source();
        if (source == null || source.getAddress() == null) {
            ctx.clearHash();
            return false;
        }
        ctx.hash(hashAddress(source.getAddress()));
        return true;
    }

    /**
     * Sets {@code ctx}'s hash from the server name a TLS client asked for when this key is {@code sni}; clears it
     * when the client sent none (the fallback places it). Returns whether a hash was set. The name is the one the
     * ClientHello carried, in lower case, so every instance maps one name to one server.
     */
    public boolean applySni(PickContext ctx, String serverName) {
        if (kind != HashKeyConfig.Kind.SNI || serverName == null) {
            ctx.clearHash();
            return false;
        }
        ctx.hash(hashValue(serverName));
        return true;
    }

    /**
     * Sets {@code ctx}'s hash from {@code request} (or from the source address for {@code source_ip}); clears
     * it when the request lacks the key, so that the fallback algorithm places it. Returns whether a hash was set.
     */
    public boolean apply(PickContext ctx, HttpRequest request) {
        String value;
        switch (kind) {
            case SOURCE_IP:
                return applySource(ctx);
            case HEADER:
                value = request.headers().get(name);
                break;
            case COOKIE:
                value = cookie(request.headers().getAll(HttpHeaderNames.COOKIE), name);
                break;
            case PATH:
                value = new QueryStringDecoder(request.uri()).path();
                break;
            case QUERY:
                List<String> values = new QueryStringDecoder(request.uri()).parameters().get(name);
                value = values == null || values.isEmpty() ? null : values.get(0);
                break;
            case SNI:
                // Refused by the loader on HTTP listeners; a request carries no ClientHello.
                value = null;
                break;
            default:
                throw new AssertionError(kind);
        }
        if (value == null) {
            ctx.clearHash();
            return false;
        }
        ctx.hash(hashValue(value));
        return true;
    }

    /** The hash of an IP address (the port is left out: one client keeps its server across connections). */
    public static long hashAddress(InetAddress address) {
        return XxHash64.hash(address.getAddress(), 0);
    }

    /** The hash of a header, cookie, path or query value. */
    public static long hashValue(CharSequence value) {
        return XxHash64.hashChars(value, 0);
    }

    /** The value of cookie {@code name} in RFC 6265 {@code Cookie} headers, or null. */
    static String cookie(List<String> headers, String name) {
        for (String header : headers) {
            int i = 0;
            int n = header.length();
            while (i < n) {
                int end = header.indexOf(';', i);
                if (end < 0) {
                    end = n;
                }
                int eq = header.indexOf('=', i);
                if (eq > 0 && eq < end) {
                    int ks = i;
                    while (ks < eq && header.charAt(ks) == ' ') {
                        ks++;
                    }
                    int ke = eq;
                    while (ke > ks && header.charAt(ke - 1) == ' ') {
                        ke--;
                    }
                    if (ke - ks == name.length() && header.regionMatches(ks, name, 0, name.length())) {
                        int vs = eq + 1;
                        int ve = end;
                        while (vs < ve && header.charAt(vs) == ' ') {
                            vs++;
                        }
                        while (ve > vs && header.charAt(ve - 1) == ' ') {
                            ve--;
                        }
                        if (ve - vs >= 2 && header.charAt(vs) == '"' && header.charAt(ve - 1) == '"') {
                            vs++;
                            ve--;
                        }
                        return header.substring(vs, ve);
                    }
                }
                i = end + 1;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return config.toString();
    }
}
