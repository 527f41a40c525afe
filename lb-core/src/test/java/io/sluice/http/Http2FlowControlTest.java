package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 flow control on the client side, measured at the server: a slow server slows an h2 upload through the
 * stream and connection windows, and a slow h2 reader slows the server's download, without Sluice buffering
 * what the other side cannot take. The bounds are the windows plus the buffers no proxy can avoid (Sluice's
 * read batch and stream queue, the kernel's socket buffers between the two); unbounded buffering would put the
 * writer tens of MiB ahead.
 */
class Http2FlowControlTest {
    private static final int KIB = 1024, MIB = 1024 * KIB;
    /** The most Linux lets a socket's send buffer grow to by default (net.ipv4.tcp_wmem). */
    private static final long KERNEL_SEND_BUFFER = 4 * MIB;
    /** Sluice's part: a read batch and what a stream or server connection holds before it stops reading. */
    private static final long SLUICE_BUFFERS = MIB;

    private static String config(String backend) {
        return """
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - { name: app, servers: [ { address: "%s" } ] }
                """.formatted(backend);
    }

    /** Reads a little at a time, as a server busy elsewhere would. */
    private static void slowly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void uploadToASlowServerIsHeldByTheWindows() throws Exception {
        long total = 20 * MIB;
        AtomicLong serverRead = new AtomicLong();
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> {
                 sock.setReceiveBufferSize(64 * KIB);
                 InputStream body = req.body();
                 byte[] buf = new byte[16 * KIB];
                 for (int n; (n = body.read(buf)) > 0; ) {
                     serverRead.addAndGet(n);
                     slowly();
                 }
                 HttpBackend.respond(out, 200, "text/plain", new byte[0]);
             });
             Sluice s = Proxies.start(config(backend.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/up", ":authority", "a",
                    "content-length", Long.toString(total));
            byte[] chunk = new byte[64 * KIB];
            long sent = 0;
            long mostAhead = 0;
            while (sent < total) {
                c.sendData(1, chunk, sent + chunk.length == total);
                sent += chunk.length;
                mostAhead = Math.max(mostAhead, sent - serverRead.get());
            }
            assertThat(c.await(RawH2.HEADERS, 1)).isNotNull();
            assertThat(serverRead.get()).isEqualTo(total);
            // Defaults: 256 KiB stream window, 1 MiB connection window.
            long windows = 256 * KIB + MIB;
            long serverReceiveBuffer = 2 * 64 * KIB; // Linux doubles what is asked
            assertThat(mostAhead).as("bytes sent by the client and not yet read by the server, at most")
                    .isLessThanOrEqualTo(windows + SLUICE_BUFFERS + KERNEL_SEND_BUFFER + serverReceiveBuffer);
        }
    }

    @Test
    void downloadToASlowClientIsReadFromTheServerOnlyAsTheClientWindowOpens() throws Exception {
        long total = 32 * MIB;
        int clientWindow = 256 * KIB;
        AtomicLong serverWrote = new AtomicLong();
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> {
                 sock.setSendBufferSize(64 * KIB);
                 out.write(("HTTP/1.1 200 X\r\nContent-Type: application/octet-stream\r\nContent-Length: " + total
                         + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                 byte[] chunk = new byte[64 * KIB];
                 for (long left = total; left > 0; left -= chunk.length) {
                     out.write(chunk); // blocks while Sluice does not read
                     serverWrote.addAndGet(chunk.length);
                 }
                 out.flush();
             });
             Sluice s = Proxies.start(config(backend.address()));
             RawH2 c = RawH2.withReceiveBuffer(Proxies.port(s, "web"), 64 * KIB,
                     RawH2.SETTINGS_INITIAL_WINDOW_SIZE, clientWindow)) {
            c.windowUpdate(0, clientWindow - 65_535);
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/down", ":authority", "a");
            long read = 0;
            long mostAhead = 0;
            long sinceSlow = 0;
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                if (f.type() != RawH2.DATA || f.stream() != 1) {
                    continue;
                }
                int n = f.payload().length;
                read += n;
                mostAhead = Math.max(mostAhead, serverWrote.get() - read);
                if ((f.flags() & RawH2.END_STREAM) != 0) {
                    break;
                }
                sinceSlow += n;
                if (sinceSlow >= 64 * KIB) {
                    sinceSlow = 0;
                    slowly();
                }
                if (n > 0) {
                    c.windowUpdate(0, n);
                    c.windowUpdate(1, n);
                }
            }
            assertThat(read).isEqualTo(total);
            long clientWindows = 2L * clientWindow; // the stream's and the connection's
            long clientReceiveBuffer = 2 * 64 * KIB;
            long serverSendBuffer = 2 * 64 * KIB;
            // Sluice's own receive buffer from the server grows with what Sluice reads: at the client's pace.
            assertThat(mostAhead).as("bytes the server wrote and the client had not read, at most")
                    .isLessThanOrEqualTo(clientWindows + clientReceiveBuffer + SLUICE_BUFFERS + KERNEL_SEND_BUFFER
                            + serverSendBuffer + KERNEL_SEND_BUFFER);
        }
    }

    /**
     * A stream whose client never opens its window holds only its own response back: another stream of the same
     * connection (default windows, 64 KiB for the connection too) is answered in full meanwhile. The stalled
     * stream's bytes queued in Sluice must not count against the others as if they used the connection window.
     */
    @Test
    void aStalledStreamDoesNotHoldUpTheOthersOfItsConnection() throws Exception {
        int stalledSize = 4 * MIB;
        int otherSize = 512 * KIB;
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> HttpBackend.respond(out, 200,
                "application/octet-stream", new byte[req.uri().equals("/stalled") ? stalledSize : otherSize]));
             Sluice s = Proxies.start(config(backend.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/stalled", ":authority", "a");
            long stalledRead = 0;
            while (stalledRead < 65_535) { // the stream's whole first window; the connection's is given back
                RawH2.Frame f = c.await(RawH2.DATA, 1);
                assertThat(f).isNotNull();
                stalledRead += f.payload().length;
                c.windowUpdate(0, f.payload().length);
            }
            c.headers(3, true, ":method", "GET", ":scheme", "http", ":path", "/other", ":authority", "a");
            long otherRead = 0;
            for (RawH2.Frame f; (f = c.read()) != null; ) {
                if (f.type() != RawH2.DATA) {
                    continue;
                }
                int n = f.payload().length;
                if (n > 0) {
                    c.windowUpdate(0, n);
                }
                if (f.stream() == 3) {
                    otherRead += n;
                    if ((f.flags() & RawH2.END_STREAM) != 0) {
                        break;
                    }
                    if (n > 0) {
                        c.windowUpdate(3, n);
                    }
                }
            }
            assertThat(otherRead).isEqualTo(otherSize);
        }
    }

    /**
     * A complete response to a complete request ends its stream with END_STREAM and nothing after: no RST_STREAM,
     * even when its last frame (the trailers) waited for the slow client's window, so that the codec closed the
     * stream only after Sluice heard the frame was written.
     */
    @Test
    void aCompleteResponseToASlowReaderIsNotResetAfterItsEnd() throws Exception {
        int size = 200 * KIB;
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> {
                 out.write(("HTTP/1.1 200 X\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked"
                         + "\r\nTrailer: x-checksum\r\n\r\n" + Integer.toHexString(size) + "\r\n")
                         .getBytes(StandardCharsets.US_ASCII));
                 out.write(new byte[size]);
                 out.write("\r\n0\r\nx-checksum: abc\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                 out.flush();
             });
             Sluice s = Proxies.start(config(backend.address()));
             RawH2 c = new RawH2(Proxies.port(s, "web"))) {
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/t", ":authority", "a");
            long read = 0;
            RawH2.Frame f;
            while ((f = c.read()) != null) {
                assertThat(f.type()).as("frame type on stream %d", f.stream()).isNotEqualTo(RawH2.RST_STREAM);
                if (f.stream() != 1) {
                    continue;
                }
                if (f.type() == RawH2.DATA) {
                    int n = f.payload().length;
                    read += n;
                    slowly();
                    if (n > 0) {
                        c.windowUpdate(0, n);
                        c.windowUpdate(1, n);
                    }
                } else if (f.type() == RawH2.HEADERS && (f.flags() & RawH2.END_STREAM) != 0) {
                    break;
                }
            }
            assertThat(f).as("the trailers, ending the stream").isNotNull();
            assertThat(read).isEqualTo(size);
            // Whatever Sluice sends after the end comes before the answer to a PING sent now.
            c.frame(RawH2.PING, 0, 0, new byte[8]);
            while ((f = c.read()) != null && !(f.type() == RawH2.PING && (f.flags() & 1) != 0)) {
                assertThat(f.type()).as("frame type on stream %d after the end", f.stream())
                        .isNotEqualTo(RawH2.RST_STREAM);
            }
            assertThat(f).as("the PING's answer").isNotNull();
        }
    }

    /**
     * Many streams of one connection, answered faster than the client's socket takes them (the connection turns
     * unwritable and writable again while streams end), one of them with its window closed by the client: all the
     * others complete, none is reset, and the stalled one got exactly its window.
     */
    @Test
    void manyStreamsCompleteWhileOneStreamsWindowStaysClosed() throws Exception {
        int streams = 90;
        int size = 160 * KIB;
        int window = MIB;
        // An h2c server: its streams hand Sluice what they hold as soon as Sluice's client side reads again, so a
        // stream made writable may end (and leave the connection's map) while the others are told.
        try (H2TestServer server = new H2TestServer("a", null);
             Sluice s = Proxies.start("""
                     admin: { enabled: false }
                     listeners:
                       - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                     clusters:
                       - { name: app, protocol: h2c, servers: [ { address: "%s" } ] }
                     """.formatted(server.address()));
             RawH2 c = RawH2.withReceiveBuffer(Proxies.port(s, "web"), 32 * KIB,
                     RawH2.SETTINGS_INITIAL_WINDOW_SIZE, window)) {
            c.windowUpdate(0, 64 * MIB);
            c.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/big/" + 4 * MIB, ":authority", "a");
            for (int i = 1; i <= streams; i++) {
                c.headers(1 + 2 * i, true, ":method", "GET", ":scheme", "http", ":path", "/big/" + size,
                        ":authority", "a");
            }
            java.util.Map<Integer, Long> read = new java.util.HashMap<>();
            java.util.Set<Integer> ended = new java.util.HashSet<>();
            long sinceSlow = 0;
            RawH2.Frame f;
            while (ended.size() < streams && (f = c.read()) != null) {
                assertThat(f.type()).as("frame type on stream %d", f.stream()).isNotIn(RawH2.RST_STREAM, RawH2.GOAWAY);
                if (f.type() == RawH2.DATA) {
                    int n = f.payload().length;
                    read.merge(f.stream(), (long) n, Long::sum);
                    sinceSlow += n;
                    if (sinceSlow >= 256 * KIB) { // read in bursts, so that Sluice's socket fills up now and then
                        sinceSlow = 0;
                        slowly();
                    }
                    if (n > 0) {
                        c.windowUpdate(0, n);
                    }
                }
                if (f.stream() != 1 && (f.flags() & RawH2.END_STREAM) != 0
                        && (f.type() == RawH2.DATA || f.type() == RawH2.HEADERS)) {
                    ended.add(f.stream());
                }
            }
            assertThat(ended).hasSize(streams);
            for (int i = 1; i <= streams; i++) {
                assertThat(read.get(1 + 2 * i)).as("stream %d", 1 + 2 * i).isEqualTo(size);
            }
            // The stalled stream gets its whole window, and nothing more (a PING's answer comes after whatever
            // was sent before it).
            while (read.getOrDefault(1, 0L) < window && (f = c.read()) != null) {
                if (f.type() == RawH2.DATA) {
                    read.merge(f.stream(), (long) f.payload().length, Long::sum);
                }
            }
            c.frame(RawH2.PING, 0, 0, new byte[8]);
            while ((f = c.read()) != null && !(f.type() == RawH2.PING && (f.flags() & 1) != 0)) {
                assertThat(f.type()).as("frame type on stream %d", f.stream()).isNotIn(RawH2.RST_STREAM, RawH2.GOAWAY);
                if (f.type() == RawH2.DATA) {
                    read.merge(f.stream(), (long) f.payload().length, Long::sum);
                }
            }
            assertThat(read.get(1)).isEqualTo(window);
        }
    }

    /** Trailers of a chunked HTTP/1.1 response reach an h2 client as HTTP/2 trailers (a last HEADERS frame). */
    @Test
    void trailersOfAChunkedResponseReachTheClient() throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        try (HttpBackend backend = new HttpBackend("a", (req, out, sock) -> {
                 out.write(("HTTP/1.1 200 X\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                         + "Trailer: x-checksum\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n")
                         .getBytes(StandardCharsets.US_ASCII));
                 out.flush();
             });
             Sluice s = Proxies.start(config(backend.address()))) {
            ExternalTool.Run r = curl.run("", "-sS", "--http2-prior-knowledge", "-D", "-",
                    "http://127.0.0.1:" + Proxies.port(s, "web") + "/t");
            assertThat(r.code()).as(r.output()).isZero();
            assertThat(r.output()).startsWith("HTTP/2 200");
            assertThat(r.output()).contains("hello");
            assertThat(r.output().substring(r.output().indexOf("hello"))).containsIgnoringCase("x-checksum: abc");
        }
    }
}
