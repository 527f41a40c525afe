package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.Http2Error;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RFC 9113 5.4.2 and 6.4: after Sluice resets a stream, the frames its peer had in flight on it are ignored (their
 * DATA still counted against the connection window), not each answered with RST_STREAM(STREAM_CLOSED), which a
 * peer that limits the resets it receives takes for a reset flood. A stream that ended normally still gets
 * STREAM_CLOSED for a frame that follows.
 */
class Http2AfterResetTest {
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;

    /**
     * Clients that give up on large downloads: Sluice cancels each server stream while the server is still
     * sending, and the server (Netty's, with its default guard of 200 resets in 30 s) sees one CANCEL per
     * download and nothing else, so it keeps the connection, and the next request on it is served.
     */
    @Test
    void downloadsClientsAbandonCostTheServerOneCancelEach() throws Exception {
        int aborts = 40;
        String big = "/big/" + 64 * MIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = Http2UpstreamFlowControlTest.start(a.address())) {
            int port = Proxies.port(s, "web");
            for (int i = 0; i < aborts; i++) {
                try (Socket client = new Socket("127.0.0.1", port)) {
                    client.setSoTimeout(20_000);
                    client.getOutputStream().write(("GET " + big + " HTTP/1.1\r\nHost: reset.test\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    client.getInputStream().readNBytes(256 * KIB); // then gone, mid-body
                }
            }
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/big/"
                    + MIB)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(MIB);

            assertThat(a.resetFramesRead).as("RST_STREAM codes the server read")
                    .hasSize(aborts).containsOnly(Http2Error.CANCEL.code());
            assertThat(a.goAwaysSent).as("GOAWAYs the server sent").isEmpty();
            assertThat(a.connections.get()).as("all on one server connection").isEqualTo(1);
        }
    }

    private static Sluice startFront(HttpBackend backend) throws Exception {
        return startFront(backend, 100);
    }

    private static Sluice startFront(HttpBackend backend, int maxConcurrentStreams) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http2: { initial_stream_window_size: 64KiB, initial_connection_window_size: 128KiB,
                             max_concurrent_streams: %d }
                    routes:
                      - { match: { path_prefix: "/small" }, cluster: app, max_body_size: 1KiB }
                      - { match: {}, cluster: app }
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                """.formatted(maxConcurrentStreams, backend.address()));
    }

    private static HttpBackend lengthEcho() throws Exception {
        return new HttpBackend("b", (req, out, sock) -> HttpBackend.respond(out, 200, "text/plain",
                String.valueOf(req.readBody().length).getBytes(StandardCharsets.US_ASCII)));
    }

    private static String[] post(String path, int length) {
        return new String[] {":method", "POST", ":scheme", "http", ":path", path, ":authority", "reset.test",
                "content-length", String.valueOf(length)};
    }

    /** Frames read until the answer to a PING sent now: all Sluice wrote for what was sent before it. */
    static List<RawH2.Frame> framesUntilPingAck(RawH2 c) throws Exception {
        c.frame(RawH2.PING, 0, 0, new byte[8]);
        List<RawH2.Frame> frames = new ArrayList<>();
        for (RawH2.Frame f; (f = c.read()) != null; ) {
            if (f.type() == RawH2.PING && (f.flags() & 1) != 0) {
                return frames;
            }
            frames.add(f);
        }
        throw new AssertionError("connection closed; frames: " + frames);
    }

    /** The response body of {@code stream}, read to its END_STREAM; fails on its reset or the connection's end. */
    private static String body(RawH2 c, int stream) throws Exception {
        StringBuilder body = new StringBuilder();
        for (RawH2.Frame f; (f = c.read()) != null; ) {
            if (f.stream() != stream) {
                continue;
            }
            assertThat(f.type()).as("stream %d reset", stream).isNotEqualTo(RawH2.RST_STREAM);
            if (f.type() == RawH2.DATA) {
                body.append(new String(f.payload(), StandardCharsets.US_ASCII));
            }
            if ((f.flags() & RawH2.END_STREAM) != 0) {
                return body.toString();
            }
        }
        throw new AssertionError("connection closed before stream " + stream + " ended");
    }

    /**
     * A client whose upload Sluice refuses (413, then RST_STREAM NO_ERROR) sends on the DATA it had in flight:
     * Sluice ignores it, gives its bytes back to the connection window, and later uploads on the connection,
     * larger than that window, go through.
     */
    @Test
    void dataAClientSendsAfterSluiceResetItsStreamIsIgnored() throws Exception {
        try (HttpBackend b = lengthEcho();
             Sluice s = startFront(b);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, post("/small", 256 * KIB));
            RawH2.Frame reset = c.await(RawH2.RST_STREAM, 1);
            assertThat(reset).isNotNull();
            assertThat(reset.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());

            // What the client had sent before it read the reset: the stream's whole window, in small frames.
            for (int i = 0; i < 64; i++) {
                c.sendData(1, new byte[1000], false);
            }
            assertThat(framesUntilPingAck(c)).as("Sluice's answer to DATA on a stream it reset")
                    .noneMatch(f -> f.type() == RawH2.RST_STREAM || f.type() == RawH2.GOAWAY);

            for (int stream = 3; stream <= 7; stream += 2) {
                c.headers(stream, false, post("/upload", 256 * KIB));
                c.sendData(stream, new byte[256 * KIB], true);
                assertThat(body(c, stream)).isEqualTo(String.valueOf(256 * KIB));
            }
        }
    }

    /**
     * As many refused uploads at once as the client may have open (300, more than the 128 the ring once held): the
     * DATA each had in flight is ignored on every one of them.
     */
    @Test
    void dataOnAsManyResetStreamsAsMayBeOpenIsIgnored() throws Exception {
        int streams = 300;
        try (HttpBackend b = lengthEcho();
             Sluice s = startFront(b, streams);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            java.util.Set<Integer> reset = new java.util.HashSet<>();
            for (int i = 0; i < streams; i++) {
                c.headers(1 + 2 * i, false, post("/small", 256 * KIB));
            }
            while (reset.size() < streams) {
                RawH2.Frame f = c.read();
                assertThat(f).as("connection closed after %d resets", reset.size()).isNotNull();
                assertThat(f.type()).isNotEqualTo(RawH2.GOAWAY);
                if (f.type() == RawH2.RST_STREAM) {
                    assertThat(f.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
                    reset.add(f.stream());
                }
            }
            for (int i = 0; i < streams; i++) {
                c.frame(RawH2.DATA, 0, 1 + 2 * i, new byte[100]); // what each had in flight
            }
            assertThat(framesUntilPingAck(c)).as("Sluice's answer to DATA on streams it reset")
                    .noneMatch(f -> f.type() == RawH2.RST_STREAM || f.type() == RawH2.GOAWAY);
        }
    }

    /** RFC 9113 5.1: DATA on a stream that ended both ways without a reset is still a STREAM_CLOSED stream error. */
    @Test
    void dataOnAStreamThatEndedNormallyIsStillAStreamError() throws Exception {
        try (HttpBackend b = lengthEcho();
             Sluice s = startFront(b);
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, post("/upload", 3));
            c.sendData(1, new byte[3], true);
            assertThat(body(c, 1)).isEqualTo("3");

            c.frame(RawH2.DATA, 0, 1, new byte[10]);
            RawH2.Frame reset = c.await(RawH2.RST_STREAM, 1);
            assertThat(reset).isNotNull();
            assertThat(reset.errorCode()).isEqualTo(Http2Error.STREAM_CLOSED.code());

            c.headers(3, false, post("/upload", 5));
            c.sendData(3, new byte[5], true);
            assertThat(body(c, 3)).isEqualTo("5");
        }
    }
}
