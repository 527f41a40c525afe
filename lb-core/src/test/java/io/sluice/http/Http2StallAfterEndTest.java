package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * http2.stall_timeout after a response ended: its end waits in Netty's flow controller for the client's window. A
 * client that opens its window a little (the stream becomes writable again) and then stops reading must still be
 * cut off after the timeout, not hold the stream (and a concurrency slot) forever.
 */
class Http2StallAfterEndTest {
    private static final int KIB = 1024;

    @Test
    void aClientThatStopsReadingAfterSomeProgressIsStillCutOff() throws Exception {
        int size = 130 * KIB;
        try (HttpBackend b = new HttpBackend("b", (req, out, sock) -> HttpBackend.respond(out, 200,
                "application/octet-stream", new byte[size]));
             Sluice s = Proxies.start("""
                     runtime: { worker_threads: 1 }
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app, http2: { stall_timeout: 1s } }
                     clusters:
                       - { name: app, servers: [ { address: "%s" } ] }
                     """.formatted(b.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.windowUpdate(0, 16 * 1024 * KIB); // the stream's window (64 KiB) alone holds the response up
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/download", ":authority", "stall.test");
            int received = 0;
            while (received < 65_535) {
                RawH2.Frame f = c.read();
                assertThat(f).isNotNull();
                assertThat(f.type()).isNotEqualTo(RawH2.GOAWAY);
                if (f.type() == RawH2.DATA) {
                    received += f.payload().length;
                }
            }
            c.windowUpdate(1, 48 * KIB); // some progress: the stream is writable again
            HttpListenerStats st = ((HttpListener) s.listener("web")).httpStats();
            await().atMost(Duration.ofSeconds(15)).until(() -> st.goaways(GoAwayReason.STALL) == 1);
            RawH2.Frame f;
            while ((f = c.read()) != null && f.type() != RawH2.GOAWAY) {
                // the 48 KiB
            }
        }
    }
}
