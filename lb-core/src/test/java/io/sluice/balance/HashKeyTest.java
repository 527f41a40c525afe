package io.sluice.balance;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.HashKeyConfig;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashKeyTest {

    private static HttpRequest get(String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    }

    /** The runtime form of a key in the config's own grammar. */
    private static HashKey key(String text) {
        return HashKey.of(HashKeyConfig.parse(text));
    }

    @Test
    void keepsTheConfigsKindAndSpelling() {
        assertThat(key("source_ip")).isSameAs(HashKey.SOURCE_IP);
        assertThat(key("path").kind()).isEqualTo(HashKeyConfig.Kind.PATH);
        assertThat(key("header:X-User").toString()).isEqualTo("header:x-user");
        assertThat(key("cookie:sid").kind()).isEqualTo(HashKeyConfig.Kind.COOKIE);
        assertThat(key("query:id").toString()).isEqualTo("query:id");
        assertThat(key("header:x").needsRequest()).isTrue();
        assertThat(HashKey.SOURCE_IP.needsRequest()).isFalse();
    }

    @Test
    void sniHashesTheServerNameAndWithoutOneLeavesItToTheFallback() {
        HashKey sni = key("sni");
        assertThat(sni.needsRequest()).isFalse();
        PickContext a = new PickContext(null);
        assertThat(sni.applySni(a, "api.example.com")).isTrue();
        assertThat(a.hash()).isEqualTo(HashKey.hashValue("api.example.com"));
        assertThat(sni.applySni(a, null)).isFalse();
        assertThat(a.hasHash()).isFalse();
        assertThat(HashKey.SOURCE_IP.applySni(a, "api.example.com")).isFalse();
        assertThat(sni.apply(a, get("/"))).as("a request carries no ClientHello").isFalse();
    }

    @Test
    void sourceIpIgnoresThePort() {
        PickContext a = new PickContext(new InetSocketAddress("192.0.2.10", 1000));
        PickContext b = new PickContext(new InetSocketAddress("192.0.2.10", 2000));
        PickContext c = new PickContext(new InetSocketAddress("192.0.2.11", 1000));
        HashKey.SOURCE_IP.applySource(a);
        HashKey.SOURCE_IP.applySource(b);
        HashKey.SOURCE_IP.applySource(c);
        assertThat(a.hash()).isEqualTo(b.hash()).isNotEqualTo(c.hash());
        assertThat(key("header:x").applySource(a)).isFalse();
    }

    @Test
    void extractsHeaderCookiePathAndQuery() {
        HttpRequest r = get("/cart/items?id=42&x=1");
        r.headers().add("X-User", "alice");
        r.headers().add("Cookie", "theme=dark; sid=\"abc123\" ;other=1");
        PickContext ctx = new PickContext(null);

        assertThat(key("header:x-user").apply(ctx, r)).isTrue();
        assertThat(ctx.hash()).isEqualTo(HashKey.hashValue("alice"));
        assertThat(key("cookie:sid").apply(ctx, r)).isTrue();
        assertThat(ctx.hash()).isEqualTo(HashKey.hashValue("abc123"));
        assertThat(key("path").apply(ctx, r)).isTrue();
        assertThat(ctx.hash()).isEqualTo(HashKey.hashValue("/cart/items"));
        assertThat(key("query:id").apply(ctx, r)).isTrue();
        assertThat(ctx.hash()).isEqualTo(HashKey.hashValue("42"));
    }

    @Test
    void aMissingKeyClearsTheHashSoTheFallbackPlacesTheRequest() {
        HttpRequest r = get("/x");
        PickContext ctx = new PickContext(null);
        ctx.hash(1);
        for (String key : List.of("header:x-user", "cookie:sid", "query:id")) {
            ctx.hash(1);
            assertThat(key(key).apply(ctx, r)).as(key).isFalse();
            assertThat(ctx.hasHash()).as(key).isFalse();
        }
    }

    @Test
    void cookieMatchesWholeNamesOnly() {
        assertThat(HashKey.cookie(List.of("xsid=1; sid=2"), "sid")).isEqualTo("2");
        assertThat(HashKey.cookie(List.of("a=1", "sid=3"), "sid")).isEqualTo("3");
        assertThat(HashKey.cookie(List.of("sidx=1"), "sid")).isNull();
    }
}
