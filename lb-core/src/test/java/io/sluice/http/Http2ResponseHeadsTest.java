package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import org.junit.jupiter.api.Test;

/**
 * The conversion of a server's HEADERS on its own: what HeaderPolicy later does with a header is the exchange's
 * business, the conversion must not lose any (Netty's codec did not).
 */
class Http2ResponseHeadsTest {
    @Test
    void theServersTrailerAnnouncementIsKept() throws Exception {
        HttpResponse r = (HttpResponse) Http2ResponseHeads.of(new DefaultHttp2Headers().status("200")
                .set("trailer", "grpc-status").set("transfer-encoding", "gzip"), false);
        assertThat(r.headers().get("trailer")).isEqualTo("grpc-status");
        assertThat(r.headers().getAll("transfer-encoding")).containsExactly("chunked");
    }
}
