package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.sluice.config.HttpConfig;
import org.junit.jupiter.api.Test;

/** The request and response edits as functions: no channel, no exchange. */
class RewriteTest {
    private static HttpRequest request(HttpVersion v, HttpMethod m, String uri, String... headers) {
        HttpRequest r = new DefaultHttpRequest(v, m, uri);
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static HttpResponse response(int status, String... headers) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status));
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    // ClientRequest: the target parsed once, and the facts

    @Test
    void originFormTargetKeepsHostHeaderAndUri() {
        ClientRequest c = ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/p?q=1", "Host", "a:80"));
        assertThat(c.host).isEqualTo("a:80");
        assertThat(c.originUri).isEqualTo("/p?q=1");
        assertThat(c.absoluteForm).isFalse();
        assertThat(RouteTable.routingHost(c.host)).isEqualTo("a");
        assertThat(RouteTable.path(c.originUri)).isEqualTo("/p");
    }

    @Test
    void absoluteFormTargetGivesAuthorityAndOriginForm() {
        ClientRequest c = ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://Ex.com:8080/x?y",
                "Host", "other"));
        assertThat(c.host).isEqualTo("Ex.com:8080");
        assertThat(c.originUri).isEqualTo("/x?y");
        assertThat(RouteTable.routingHost(c.host)).isEqualTo("ex.com");
        ClientRequest bare = ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.GET, "http://[::1]:9"));
        assertThat(bare.originUri).isEqualTo("/");
        assertThat(RouteTable.routingHost(bare.host)).isEqualTo("[::1]");
    }

    @Test
    void factsOfTheHead() {
        ClientRequest get10 = ClientRequest.of(request(HttpVersion.HTTP_1_0, HttpMethod.GET, "/"));
        assertThat(get10.keepAlive).isFalse();
        assertThat(get10.http10).isTrue();
        assertThat(get10.hasBody).isFalse();
        ClientRequest post = ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.POST, "/", "Host", "h",
                "Transfer-Encoding", "chunked"));
        assertThat(post.hasBody).isTrue();
        assertThat(post.contentLength).isEqualTo(-1);
        assertThat(post.idempotent).isFalse();
        assertThat(post.keepAlive).isTrue();
        ClientRequest head = ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/", "Host", "h"));
        assertThat(head.head).isTrue();
        assertThat(head.idempotent).isTrue();
    }

    @Test
    void upgradeOnlyForABodilessGetNamingItInConnection() {
        assertThat(ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", "Upgrade", "websocket",
                "Connection", "keep-alive, Upgrade")).upgrade).isEqualTo("websocket");
        assertThat(ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", "Upgrade", "websocket"))
                .upgrade).isNull();
        assertThat(ClientRequest.of(request(HttpVersion.HTTP_1_1, HttpMethod.POST, "/", "Upgrade", "websocket",
                "Connection", "Upgrade", "Content-Length", "3")).upgrade).isNull();
    }

    // RequestRewrite

    @Test
    void requestGoesToTheServerInOriginFormAsHttp11WithForwardingHeaders() {
        HttpRequest r = request(HttpVersion.HTTP_1_0, HttpMethod.GET, "http://ex.com/x", "Connection", "keep-alive, X-Hop",
                "X-Hop", "1", "Keep-Alive", "timeout=5", "X-Forwarded-For", "10.0.0.1");
        ClientRequest c = ClientRequest.of(r);
        RequestRewrite.toServer(c, null, "/rewritten", "192.0.2.7", false, HttpConfig.DEFAULT, false, true);
        assertThat(r.uri()).isEqualTo("/rewritten");
        assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
        assertThat(r.headers().get("host")).isEqualTo("ex.com");
        assertThat(r.headers().contains("x-hop")).isFalse();
        assertThat(r.headers().contains("keep-alive")).isFalse();
        assertThat(r.headers().contains("connection")).isFalse();
        assertThat(r.headers().get("x-forwarded-for")).isEqualTo("10.0.0.1, 192.0.2.7");
        assertThat(r.headers().get("x-forwarded-host")).isEqualTo("ex.com");
        assertThat(r.headers().get("via")).isEqualTo("1.0 sluice");
        assertThat(r.headers().get("x-request-id")).hasSize(32);
        // The facts were read before the rewrite.
        assertThat(c.http10).isTrue();
        assertThat(c.clientUri).isEqualTo("http://ex.com/x");
    }

    @Test
    void forwardingHeadersOfATrustedProxyAreKeptAndAnyoneElsesReplaced() throws Exception {
        String[] sent = {"Host", "ex.com", "X-Forwarded-For", "10.0.0.1, 10.0.0.2", "X-Forwarded-Proto", "https",
                "X-Forwarded-Host", "shop.example", "Forwarded", "for=10.0.0.1"};
        HttpConfig forwarded = io.sluice.config.ConfigLoader.parse("""
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http: { forwarded: true } } ]
                clusters: [ { name: app, servers: [ { address: "127.0.0.1:1" } ] } ]
                """).listeners().get(0).http();
        HttpRequest trusted = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", sent);
        RequestRewrite.toServer(ClientRequest.of(trusted), null, "/", "192.0.2.7", false, forwarded, false, true);
        assertThat(trusted.headers().get("x-forwarded-for")).isEqualTo("10.0.0.1, 10.0.0.2, 192.0.2.7");
        assertThat(trusted.headers().get("x-forwarded-proto")).isEqualTo("https");
        assertThat(trusted.headers().get("x-forwarded-host")).isEqualTo("shop.example");
        assertThat(trusted.headers().get("forwarded")).isEqualTo("for=10.0.0.1, for=192.0.2.7;host=\"ex.com\";proto=http");

        HttpRequest untrusted = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", sent);
        RequestRewrite.toServer(ClientRequest.of(untrusted), null, "/", "192.0.2.7", false, forwarded, false, false);
        assertThat(untrusted.headers().getAll("x-forwarded-for")).containsExactly("192.0.2.7");
        assertThat(untrusted.headers().get("x-forwarded-proto")).isEqualTo("http");
        assertThat(untrusted.headers().get("x-forwarded-host")).isEqualTo("ex.com");
        assertThat(untrusted.headers().getAll("forwarded")).containsExactly("for=192.0.2.7;host=\"ex.com\";proto=http");

        // Without forwarded: true Sluice writes no Forwarded, and an untrusted client's does not pass either.
        HttpRequest dropped = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", sent);
        RequestRewrite.toServer(ClientRequest.of(dropped), null, "/", "192.0.2.7", false, HttpConfig.DEFAULT, false,
                false);
        assertThat(dropped.headers().contains("forwarded")).isFalse();
    }

    @Test
    void askedForUpgradeSurvivesTheHopByHopCleanUp() {
        HttpRequest r = request(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", "Host", "h", "Upgrade", "websocket",
                "Connection", "Upgrade");
        RequestRewrite.toServer(ClientRequest.of(r), null, "/", null, false, HttpConfig.DEFAULT, false, false);
        assertThat(r.headers().get("upgrade")).isEqualTo("websocket");
        assertThat(r.headers().get("connection")).isEqualTo("upgrade");
        assertThat(r.headers().get("x-forwarded-for")).isEqualTo("unknown");
    }

    // ResponseRewrite

    private static ClientRequest client(HttpVersion v, HttpMethod m) {
        return ClientRequest.of(request(v, m, "/", "Host", "h"));
    }

    @Test
    void lengthDelimitedResponseKeepsBothConnections() {
        HttpResponse r = response(200, "Content-Length", "2", "Connection", "keep-alive", "Keep-Alive", "timeout=5");
        ResponseRewrite.Plan p = ResponseRewrite.finalHead(r, client(HttpVersion.HTTP_1_1, HttpMethod.GET), false,
                HttpConfig.DEFAULT, null, null, null);
        assertThat(p).isEqualTo(new ResponseRewrite.Plan(true, false));
        assertThat(r.headers().contains("connection")).isFalse();
        assertThat(r.headers().contains("keep-alive")).isFalse();
        assertThat(r.headers().get("via")).isEqualTo("1.1 sluice");
    }

    @Test
    void closeDelimitedResponseIsChunkedForHttp11AndClosesForHttp10() {
        HttpResponse r11 = response(200);
        assertThat(ResponseRewrite.finalHead(r11, client(HttpVersion.HTTP_1_1, HttpMethod.GET), false,
                HttpConfig.DEFAULT, null, null, null)).isEqualTo(new ResponseRewrite.Plan(false, false));
        assertThat(r11.headers().get("transfer-encoding")).isEqualTo("chunked");

        HttpResponse r10 = response(200);
        assertThat(ResponseRewrite.finalHead(r10, client(HttpVersion.HTTP_1_0, HttpMethod.GET), false,
                HttpConfig.DEFAULT, null, null, null)).isEqualTo(new ResponseRewrite.Plan(false, true));
        assertThat(r10.headers().get("connection")).isEqualTo("close");
    }

    @Test
    void chunkedResponseToHttp10IsSentRawAndEndedByClosing() {
        HttpResponse r = response(200, "Transfer-Encoding", "chunked");
        ResponseRewrite.Plan p = ResponseRewrite.finalHead(r, client(HttpVersion.HTTP_1_0, HttpMethod.GET), false,
                HttpConfig.DEFAULT, null, null, null);
        assertThat(p).isEqualTo(new ResponseRewrite.Plan(true, true));
        assertThat(r.headers().contains("transfer-encoding")).isFalse();
        assertThat(r.protocolVersion()).isEqualTo(HttpVersion.HTTP_1_1);
    }

    @Test
    void http10KeepAliveIsSaidAndAHeadResponseIsNeverCloseDelimited() {
        HttpResponse r = response(200);
        ResponseRewrite.Plan p = ResponseRewrite.finalHead(r, ClientRequest.of(request(HttpVersion.HTTP_1_0,
                HttpMethod.HEAD, "/", "Connection", "keep-alive")), false, HttpConfig.DEFAULT, null, "sticky=1", null);
        assertThat(p).isEqualTo(new ResponseRewrite.Plan(true, false));
        assertThat(r.headers().get("connection")).isEqualTo("keep-alive");
        assertThat(r.headers().get("set-cookie")).isEqualTo("sticky=1");
    }

    @Test
    void aClosingConnectionSaysSo() {
        HttpResponse r = response(204, "Connection", "keep-alive");
        assertThat(ResponseRewrite.finalHead(r, client(HttpVersion.HTTP_1_1, HttpMethod.GET), true,
                HttpConfig.DEFAULT, null, null, null)).isEqualTo(new ResponseRewrite.Plan(true, true));
        assertThat(r.headers().get("connection")).isEqualTo("close");
    }

    @Test
    void hstsIsAddedUnlessTheServerSetItsOwn() {
        HttpResponse plain = response(200, "Content-Length", "0");
        ResponseRewrite.finalHead(plain, client(HttpVersion.HTTP_1_1, HttpMethod.GET), false, HttpConfig.DEFAULT,
                null, null, "max-age=600");
        assertThat(plain.headers().get("strict-transport-security")).isEqualTo("max-age=600");
        HttpResponse own = response(200, "Content-Length", "0", "Strict-Transport-Security", "max-age=1; preload");
        ResponseRewrite.finalHead(own, client(HttpVersion.HTTP_1_1, HttpMethod.GET), false, HttpConfig.DEFAULT,
                null, null, "max-age=600");
        assertThat(own.headers().getAll("strict-transport-security")).containsExactly("max-age=1; preload");
    }

    @Test
    void interimAndSwitchingHeads() {
        HttpResponse early = response(103, "Connection", "X-Hop", "X-Hop", "1", "Link", "</a>");
        ResponseRewrite.informational(early);
        assertThat(early.headers().names()).containsExactly("Link");
        HttpResponse sw = response(101, "Upgrade", "websocket", "Connection", "Upgrade", "Keep-Alive", "x");
        ResponseRewrite.switching(sw);
        assertThat(sw.headers().get("upgrade")).isEqualTo("websocket");
        assertThat(sw.headers().get("connection")).isEqualTo("upgrade");
        assertThat(sw.headers().contains("keep-alive")).isFalse();
    }
}
