package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guard on the resets Sluice writes to a client counts only those the client caused: a server that breaks many
 * streams of one long-lived client connection (a crashing backend) costs the client those streams, each reset
 * with the server's code, not the connection (GOAWAY ENHANCE_YOUR_CALM after 200).
 */
class Http2ResetsPassedOnTest {
    private static String[] get(String path) {
        return new String[] {":method", "GET", ":scheme", "http", ":path", path, ":authority", "resets.test"};
    }

    @Test
    void aServersResetsPassedOnDoNotCountAgainstTheClient() throws Exception {
        int streams = 250;
        long internal = Http2Error.INTERNAL_ERROR.code();
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = Http2UpstreamFlowControlTest.start(a.address());
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            List<Long> codes = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                int stream = 1 + 2 * i;
                c.headers(stream, true, get("/reset/" + internal));
                RawH2.Frame f;
                while ((f = c.read()) != null && f.type() != RawH2.GOAWAY
                        && !(f.type() == RawH2.RST_STREAM && f.stream() == stream)) {
                    // the head and the partial body
                }
                assertThat(f).as("stream %d: the connection ended", stream).isNotNull();
                assertThat(f.type()).as("stream %d: GOAWAY with code %d", stream,
                        f.type() == RawH2.GOAWAY ? f.errorCode() : -1).isEqualTo(RawH2.RST_STREAM);
                codes.add(f.errorCode());
            }
            assertThat(codes).hasSize(streams).containsOnly(internal);

            int last = 1 + 2 * streams;
            c.headers(last, true, get("/trailers"));
            RawH2.Frame f;
            while ((f = c.read()) != null && !(f.stream() == last && (f.flags() & RawH2.END_STREAM) != 0)) {
                assertThat(f.type()).isNotEqualTo(RawH2.GOAWAY);
            }
            assertThat(f).as("the last stream completed").isNotNull();
        }
    }

    /** Resets a client causes (malformed heads, each a PROTOCOL_ERROR stream error) still count: "MadeYouReset". */
    @Test
    void resetsTheClientCausesStillEndTheConnection() throws Exception {
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = Http2UpstreamFlowControlTest.start(a.address());
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            boolean ended = false;
            int resets = 0;
            for (int i = 0; i < 250 && !ended; i++) {
                int stream = 1 + 2 * i;
                c.headers(stream, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority",
                        "resets.test", "Upper-Case", "x");
                RawH2.Frame f;
                while ((f = c.read()) != null && f.type() != RawH2.GOAWAY
                        && !(f.type() == RawH2.RST_STREAM && f.stream() == stream)) {
                    // nothing else is sent
                }
                if (f == null || f.type() == RawH2.GOAWAY) {
                    ended = true; // the GOAWAY itself may be lost to the close: the count says why
                    assertThat(f == null ? Http2Error.ENHANCE_YOUR_CALM.code() : f.errorCode())
                            .isEqualTo(Http2Error.ENHANCE_YOUR_CALM.code());
                } else {
                    resets++;
                }
            }
            assertThat(ended).as("the connection ended").isTrue();
            HttpListenerStats st = ((HttpListener) s.listener("web")).httpStats();
            await().atMost(Duration.ofSeconds(10)).until(() -> st.goaways(GoAwayReason.ENHANCE_YOUR_CALM) == 1);
            assertThat(resets).isEqualTo(ResetsSentLimit.MAX_RESETS);
        }
    }
}
