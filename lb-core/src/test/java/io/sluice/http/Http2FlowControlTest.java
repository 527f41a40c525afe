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
