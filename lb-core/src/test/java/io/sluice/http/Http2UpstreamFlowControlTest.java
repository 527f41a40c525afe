package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Flow control through Sluice to an h2c server: a client that reads slowly (or not at all) holds back its own
 * stream on the server connection through HTTP/2 windows, never the others, and never makes Sluice buffer the
 * server's body. The client is {@link RawH2}: it sends WINDOW_UPDATE only for what the test has read.
 */
class Http2UpstreamFlowControlTest {
    private static final int MIB = 1024 * 1024;
    /** Generous: windows (client 64 KiB, Sluice's 64 KiB per stream) and buffers are well below it. */
    private static final long BOUND = 8L * MIB;

    /** One worker loop, an HTTP listener, and an h2c cluster of {@code server}. */
    static Sluice start(String server) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - { name: app, protocol: h2c, servers: [ { address: "%s" } ] }
                """.formatted(server));
    }

    private static String[] get(String path) {
        return new String[] {":method", "GET", ":scheme", "http", ":path", path, ":authority", "flow.test"};
    }

    /** Waits until {@code a} has not moved for a while: the server is as far ahead as it is allowed to get. */
    private static void awaitStill(H2TestServer a, String path) {
        long[] last = {-1};
        await().pollInterval(Duration.ofMillis(50)).during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20))
                .until(() -> {
                    long now = a.sent(path);
                    boolean still = now == last[0];
                    last[0] = now;
                    return still;
                });
    }

    @Test
    void aStalledStreamDoesNotStallTheOtherOnTheSameServerConnection() throws Exception {
        String big = "/big/" + 32 * MIB;
        String other = "/big/" + 4 * MIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address());
             RawH2 stalled = new RawH2(Proxies.port(s, "web"))) {
            // Never reads its socket, never opens its window.
            stalled.headers(1, true, get(big));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.sent(big) > 0);
            awaitStill(a, big);

            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + Proxies.port(s, "web") + other)).timeout(Duration.ofSeconds(20)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(4 * MIB);

            assertThat(a.connections.get()).as("both streams on one server connection").isEqualTo(1);
            assertThat(a.requests).hasSize(2);
            assertThat(a.sent(big)).isLessThan(BOUND);
        }
    }

    /**
     * Stalled streams hold their windows' worth each, which counts against the connection window until they go on:
     * with nearly all the streams a connection takes stalled, a download on the same connection still completes
     * (a review feared the connection window's update threshold, half of 100 x 64 KiB, could then never be met).
     */
    @Test
    void manyStalledStreamsDoNotFreezeTheConnectionForTheOthers() throws Exception {
        int stalledStreams = 90;
        String big = "/big/" + 32 * MIB;
        String other = "/big/" + 8 * MIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address());
             RawH2 stalled = new RawH2(Proxies.port(s, "web"), RawH2.SETTINGS_INITIAL_WINDOW_SIZE, 0)) {
            for (int i = 0; i < stalledStreams; i++) {
                stalled.headers(1 + 2 * i, true, get(big));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> a.requests.size() == stalledStreams);
            awaitStill(a, big);
            assertThat(a.sent(big)).as("the stalled streams hold their windows' worth")
                    .isGreaterThanOrEqualTo((long) Http2Pool.STREAM_WINDOW * stalledStreams);

            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + Proxies.port(s, "web") + other)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(8 * MIB);
            assertThat(a.connections.get()).as("all streams on one server connection").isEqualTo(1);
        }
    }

    @Test
    void aSlowReaderMakesTheServerWaitNotSluiceBuffer() throws Exception {
        long size = 32L * MIB;
        String big = "/big/" + size;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address());
             RawH2 client = new RawH2(Proxies.port(s, "web"))) {
            client.headers(1, true, get(big));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.sent(big) > 0);
            awaitStill(a, big); // nothing read yet: what the server sent sits in windows and buffers
            assertThat(a.sent(big)).isLessThan(BOUND);

            long read = 0;
            long sinceCheck = 0;
            boolean ended = false;
            while (!ended) {
                RawH2.Frame f = client.read();
                assertThat(f).as("connection closed after %d bytes", read).isNotNull();
                if (f.type() == RawH2.DATA && f.stream() == 1) {
                    int n = f.payload().length;
                    read += n;
                    sinceCheck += n;
                    ended = (f.flags() & RawH2.END_STREAM) != 0;
                    if (n > 0 && !ended) {
                        client.windowUpdate(1, n);
                        client.windowUpdate(0, n);
                    }
                    if (sinceCheck >= MIB) {
                        // The server can only be windows and buffers ahead of what this client has read.
                        assertThat(a.sent(big) - read).isLessThan(BOUND);
                        sinceCheck = 0;
                        if (read % (8L * MIB) < MIB) {
                            awaitStill(a, big); // now and then, let the server run as far ahead as it can
                            assertThat(a.sent(big) - read).isLessThan(BOUND);
                        }
                    }
                } else if (f.type() == RawH2.RST_STREAM || f.type() == RawH2.GOAWAY) {
                    throw new AssertionError("stream ended by frame type " + f.type() + " after " + read);
                }
            }
            assertThat(read).isEqualTo(size);
            assertThat(a.sent(big)).isEqualTo(size);
        }
    }

    /**
     * The other way: a server that does not read an upload holds back the client, not Sluice's memory. The
     * stream turns unwritable once its window is queued, Sluice stops reading the client, and the client's
     * socket fills; when the server reads on, the stream turns writable again and the rest flows.
     */
    @Test
    void aServerThatDoesNotReadAnUploadHoldsBackTheClient() throws Exception {
        long size = 64L * MIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address());
             Socket client = new Socket("127.0.0.1", Proxies.port(s, "web"))) {
            AtomicLong written = new AtomicLong();
            OutputStream out = client.getOutputStream();
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    out.write(("POST /stall-upload HTTP/1.1\r\nHost: flow.test\r\nContent-Length: " + size
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    byte[] chunk = new byte[64 * 1024];
                    for (long left = size; left > 0; left -= chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, left));
                        written.addAndGet(Math.min(chunk.length, left));
                    }
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long[] last = {-1};
            await().pollInterval(Duration.ofMillis(50)).during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(20))
                    .until(() -> {
                        long now = written.get();
                        boolean still = now == last[0];
                        last[0] = now;
                        return still;
                    });
            assertThat(written.get()).as("what the client got to write while the server read nothing")
                    .isLessThan(2 * BOUND);
            assertThat(upload).isNotDone();

            a.releaseUploads();
            upload.get(30, TimeUnit.SECONDS);
            client.setSoTimeout(20_000); // a regression fails here rather than hanging
            InputStream in = client.getInputStream();
            byte[] status = in.readNBytes(12);
            assertThat(new String(status, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
            await().atMost(Duration.ofSeconds(10)).until(() -> a.uploadConsumed.get() == size);
        }
    }

    /**
     * A server that answers an upload in full and then resets it with NO_ERROR (RFC 9113 8.1: it needs no more of
     * the request) must not lose its response, even when the client is slow and the response still waits in
     * Sluice: the client (its window shut) takes none of it until the reset has come.
     */
    @Test
    void aFullResponseBeforeAResetWithNoErrorReachesASlowClientWhole() throws Exception {
        String path = "/early-answer/" + 4 * MIB; // at most: the server sends what Sluice's window allows

        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address());
             RawH2 c = new RawH2(Proxies.port(s, "web"), RawH2.SETTINGS_INITIAL_WINDOW_SIZE, 0)) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", path, ":authority", "flow.test");
            c.sendData(1, new byte[1024], false); // the upload goes on, never ends
            await().atMost(Duration.ofSeconds(10)).until(() -> a.sent(path) > Http2StreamDownstream.HIGH_WATER);
            awaitStill(a, path); // the client's stream is over its high water: Sluice stopped reading the server's
            long size = a.sent(path);
            a.finishEarlyAnswers();
            await().atMost(Duration.ofSeconds(10)).until(() -> a.earlyAnswersEnded.get() == 1);
            // One loop serves both sides: its answer to a PING sent now comes after it read the server's reset.
            c.frame(RawH2.PING, 0, 0, new byte[8]);
            assertThat(c.await(RawH2.PING, 0)).isNotNull();

            c.windowUpdate(0, 8 * MIB);
            c.windowUpdate(1, 8 * MIB);
            long body = 0;
            boolean trailers = false;
            for (RawH2.Frame f; !trailers && (f = c.read()) != null; ) {
                if (f.stream() != 1) {
                    continue;
                }
                assertThat(f.type()).as("no reset before the response's end").isNotEqualTo(RawH2.RST_STREAM);
                if (f.type() == RawH2.DATA) {
                    body += f.payload().length;
                } else if (f.type() == RawH2.HEADERS && body > 0) {
                    trailers = (f.flags() & RawH2.END_STREAM) != 0;
                }
            }
            assertThat(body).as("the whole body").isEqualTo(size);
            assertThat(trailers).as("the response's trailers").isTrue();
        }
    }

    /**
     * Downloads the clients abandon half-way give the connection window back what Sluice never acknowledged:
     * after more of them than the window holds, a large download on the same server connection still completes.
     */
    @Test
    void abortedDownloadsDoNotShrinkTheConnectionWindow() throws Exception {
        String half = "/big/" + MIB;
        String big = "/big/" + 32 * MIB;
        try (H2TestServer a = new H2TestServer("a", null);
             Sluice s = start(a.address())) {
            // Every abort costs a CANCEL: as many as Netty's flood guard allows in its window, and one more would
            // end the connection (and with it what is under test here).
            a.rstFloodGuard = false;
            int port = Proxies.port(s, "web");
            for (int i = 0; i < 2 * Http2Pool.MAX_STREAMS_PER_CONNECTION; i++) {
                try (Socket client = new Socket("127.0.0.1", port)) {
                    client.setSoTimeout(20_000);
                    client.getOutputStream().write(("GET " + half + " HTTP/1.1\r\nHost: flow.test\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    client.getInputStream().readNBytes(100 * 1024); // then gone, mid-body
                }
            }
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + big))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(32 * MIB);
            assertThat(a.connections.get()).as("all on one server connection").isEqualTo(1);
        }
    }

    /**
     * A server that sends its response in small DATA frames, each next one only once Sluice has given the stream's
     * window back for the last: in effect what a server whose next segment waits for our ACK does (Nagle, a corked
     * sendfile; NGINX over h2c), since a WINDOW_UPDATE is what carries that ACK when nothing else goes its way.
     * Sluice gives a stream's window back with every read its client's side asks for; with Netty's default, after
     * half the window only, this server would wait for good (over real TCP, for the delayed-ACK timer at every
     * window: a lone 1 MiB response took ~400 ms).
     */
    @Test
    void dataTheClientTookIsGivenBackToTheServerAtOnce() throws Exception {
        int chunk = 4096;
        int chunks = 16;
        AtomicReference<RawH2> accepted = new AtomicReference<>();
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Sluice s = start("127.0.0.1:" + listener.getLocalPort())) {
            CompletableFuture<Integer> unanswered = CompletableFuture.supplyAsync(() -> {
                try {
                    RawH2 h2 = RawH2.serverSide(listener.accept());
                    accepted.set(h2);
                    return sendInLockstep(h2, chunk, chunks);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            CompletableFuture<HttpResponse<byte[]>> response = c.sendAsync(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + Proxies.port(s, "web") + "/lockstep")).timeout(Duration.ofSeconds(30))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            CompletableFuture.anyOf(response, unanswered).get(40, TimeUnit.SECONDS);
            if (unanswered.isCompletedExceptionally()) {
                unanswered.join(); // the server's own failure, not a client timeout
            }
            HttpResponse<byte[]> r = response.get(40, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).hasSize(chunk * chunks);
            assertThat(unanswered.get(10, TimeUnit.SECONDS)).as("DATA frames the server waited 5 s for Sluice to"
                    + " give back, in vain").isZero();
        } finally {
            if (accepted.get() != null) {
                accepted.get().close();
            }
        }
    }

    /** Answers the first request; returns how many of its frames were not given back within 5 s (then it stops waiting). */
    private static int sendInLockstep(RawH2 h2, int chunk, int chunks) throws Exception {
        RawH2.Frame f;
        while ((f = h2.read()) != null && f.type() != RawH2.HEADERS) {
            // SETTINGS (acknowledged by read), the connection's WINDOW_UPDATE
        }
        assertThat(f).as("a request").isNotNull();
        int stream = f.stream();
        h2.headers(stream, false, ":status", "200", "content-length", String.valueOf(chunk * chunks));
        h2.socket.setSoTimeout(5_000);
        for (int i = 0; i < chunks; i++) {
            boolean last = i == chunks - 1;
            h2.frame(RawH2.DATA, last ? RawH2.END_STREAM : 0, stream, new byte[chunk]);
            if (last) {
                break;
            }
            try {
                while ((f = h2.read()) != null && !(f.type() == RawH2.WINDOW_UPDATE && f.stream() == stream)) {
                    // the connection's updates, pings
                }
            } catch (SocketTimeoutException e) {
                for (int j = i + 1; j < chunks; j++) {
                    h2.frame(RawH2.DATA, j == chunks - 1 ? RawH2.END_STREAM : 0, stream, new byte[chunk]);
                }
                return chunks - 1 - i;
            }
        }
        return 0;
    }
}
