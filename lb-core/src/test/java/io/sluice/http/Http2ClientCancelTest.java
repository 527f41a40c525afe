package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client cancelling one stream whose response Sluice still holds (the client's window closed, the rest queued in
 * Netty's flow controller and the server's end buffered in Sluice) loses that stream only: the cancelled queued DATA
 * must not make the stream writable again and push the buffered rest into a stream Netty already closed, whose
 * trailers Netty refuses with a connection error (GOAWAY INTERNAL_ERROR for all the client's streams).
 */
class Http2ClientCancelTest {
    private static final int KIB = 1024;

    private static String[] get(String path) {
        return new String[] {":method", "GET", ":scheme", "http", ":path", path, ":authority", "cancel.test"};
    }

    /**
     * The cancelled stream's response is 80 KiB and trailers: 1 KiB goes out (the client's stream window), the rest
     * waits in Netty's flow controller (the stream unwritable), and the trailers, which the server sends once its
     * body is out, wait in Sluice. The client then cancels: Netty drops the queued DATA, and the stream must
     * neither take the rest nor end with the trailers, but count the client's cancel.
     */
    @Test
    void cancellingAStreamWithQueuedDataLeavesTheConnectionsOtherStreamsAlone() throws Exception {
        String path = "/big-trailers/" + 80 * KIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = Http2UpstreamFlowControlTest.start(a.address());
             RawH2 c = new RawH2(Proxies.port(s, "web"), RawH2.SETTINGS_INITIAL_WINDOW_SIZE, KIB)) {
            c.windowUpdate(0, 16 * 1024 * KIB); // the connection's window wide open, the streams' stay at 1 KiB
            c.headers(1, true, get(path));
            await().atMost(Duration.ofSeconds(20)).until(() -> a.bodiesWritten.get() == 1);
            a.releaseTrailers();
            await().atMost(Duration.ofSeconds(20)).until(() -> a.trailersWritten.get() == 1);
            List<RawH2.Frame> frames = new ArrayList<>(Http2AfterResetTest.framesUntilPingAck(c)); // Sluice read the trailers meanwhile
            c.rst(1);
            c.headers(3, true, get("/trailers"));
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                frames.add(f);
                if (f.stream() == 3 && (f.flags() & RawH2.END_STREAM) != 0) {
                    break;
                }
            }
            assertThat(frames).as("frames Sluice sent").noneMatch(f -> f.type() == RawH2.GOAWAY)
                    .noneMatch(f -> f.stream() == 1 && f.type() == RawH2.HEADERS && (f.flags() & RawH2.END_STREAM) != 0)
                    .anyMatch(f -> f.stream() == 3 && f.type() == RawH2.HEADERS && (f.flags() & RawH2.END_STREAM) != 0);
            HttpListenerStats st = ((HttpListener) s.listener("web")).httpStats();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(st.errors(ErrorReason.CLIENT_CLOSED)).as("the cancel counted").isEqualTo(1));
        }
    }
}
