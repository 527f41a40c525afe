package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpMethod;
import org.junit.jupiter.api.Test;

/** Which requests an event loop keeps for its next streams ({@link Http2Request}). */
class Http2RequestTest {

    @Test
    void aGivenBackRequestIsReusedEmpty() {
        Http2Request r = Http2Request.take(HttpMethod.GET, "/a", 4);
        r.fields().add("x-secret", "client one");
        r.giveBack();

        Http2Request again = Http2Request.take(HttpMethod.POST, "/b", 4);
        assertThat(again).isSameAs(r);
        assertThat(again.headers().isEmpty()).as("no field of the previous client").isTrue();
        assertThat(again.method()).isEqualTo(HttpMethod.POST);
        assertThat(again.uri()).isEqualTo("/b");
        again.giveBack();
    }

    @Test
    void aRequestWhoseTableGrewPastTheLimitIsNotKept() {
        Http2Request big = Http2Request.take(HttpMethod.GET, "/big", 4);
        for (int i = 0; i <= Http2Request.KEPT_FIELDS; i++) {
            big.fields().add("x-field-" + i, "v");
        }
        big.giveBack();

        Http2Request next = Http2Request.take(HttpMethod.GET, "/next", 4);
        assertThat(next).as("a new request, not the one holding a big table").isNotSameAs(big);
        next.giveBack();
    }
}
