package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/1.1 client's FIN: a request it sent whole is still answered (listeners keep half-closed sockets open),
 * one whose body the FIN cut short can never be whole and ends at once, as if the client had gone, instead of
 * holding its server exchange and the client's socket (CLOSE_WAIT) until the idle timeout (10m by default).
 */
class HttpClientCloseTest {
    /** How each request's body ended at the server: "whole N" or "cut". */
    private final List<String> bodyEnds = new CopyOnWriteArrayList<>();

    private final HttpBackend.Handler reader = (req, out, sock) -> {
        try {
            bodyEnds.add("whole " + req.readBody().length);
        } catch (IOException e) {
            bodyEnds.add("cut");
            throw e;
        }
        HttpBackend.respond(out, 200, "text/plain", "ok".getBytes(StandardCharsets.US_ASCII));
    };

    private static Sluice start(HttpBackend a) throws Exception {
        return Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { enabled: false }
                listeners: [ { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(a.address()));
    }

    /** Sends {@code request}, closes the sending side, and reads what comes back until Sluice closes. */
    private static String sendThenFin(Sluice s, String request) throws IOException {
        return sendThenFin(s, request, null);
    }

    /** The same, closing the sending side only once {@code backend} has the request's head. */
    private static String sendThenFin(Sluice s, String request, HttpBackend backend) throws IOException {
        try (Socket c = new Socket("127.0.0.1", Proxies.port(s, "web"))) {
            c.setSoTimeout(20_000);
            c.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            c.getOutputStream().flush();
            if (backend != null) {
                await().atMost(Duration.ofSeconds(10)).until(() -> backend.requests.size() == 1);
            }
            c.shutdownOutput();
            InputStream in = c.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            in.transferTo(got);
            return got.toString(StandardCharsets.US_ASCII);
        }
    }

    @Test
    void aRequestSentWholeBeforeTheFinIsAnswered() throws Exception {
        try (HttpBackend a = new HttpBackend("a", reader); Sluice s = start(a)) {
            String answer = sendThenFin(s, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nfour");
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("ok");
            assertThat(bodyEnds).containsExactly("whole 4");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);
        }
    }

    @Test
    void aChunkedRequestSentWholeBeforeTheFinIsAnswered() throws Exception {
        try (HttpBackend a = new HttpBackend("a", reader); Sluice s = start(a)) {
            String answer = sendThenFin(s, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4\r\nfour\r\n0\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("ok");
            assertThat(bodyEnds).containsExactly("whole 4");
        }
    }

    @Test
    void aBodyTheFinCutShortEndsTheExchangeAtOnce() throws Exception {
        try (HttpBackend a = new HttpBackend("a", reader); Sluice s = start(a)) {
            // Six bytes of the body can never come: no answer, the server's request is not ended as whole, and
            // the connection closes now (the socket's 20 s read timeout fails the test otherwise).
            String answer = sendThenFin(s, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfour", a);
            assertThat(answer).isEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> !bodyEnds.isEmpty());
            assertThat(bodyEnds).containsExactly("cut");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);
        }
    }

    @Test
    void aChunkedBodyTheFinCutShortIsNotEndedForTheServer() throws Exception {
        try (HttpBackend a = new HttpBackend("a", reader); Sluice s = start(a)) {
            String answer = sendThenFin(s, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "4\r\nfour\r\n", a);
            assertThat(answer).isEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> !bodyEnds.isEmpty());
            assertThat(bodyEnds).containsExactly("cut");
        }
    }

    /** A server may answer before reading the body (a 413, say): that answer still arrives whole. */
    @Test
    void anAnswerBegunBeforeTheFinCutTheBodyStillArrivesWhole() throws Exception {
        int size = 4 << 20;
        HttpBackend.Handler early = (req, out, sock) -> {
            out.write(("HTTP/1.1 413 Content Too Large\r\nContent-Length: " + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[size]);
            out.flush();
        };
        try (HttpBackend a = new HttpBackend("a", early); Sluice s = start(a);
             Socket c = new Socket("127.0.0.1", Proxies.port(s, "web"))) {
            c.setSoTimeout(20_000);
            c.getOutputStream().write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfour"
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = c.getInputStream();
            byte[] first = in.readNBytes(12);
            assertThat(new String(first, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 413");
            c.shutdownOutput(); // the answer has begun; most of its 4 MiB are still on their way
            ByteArrayOutputStream rest = new ByteArrayOutputStream();
            in.transferTo(rest);
            String all = new String(first, StandardCharsets.US_ASCII) + rest.toString(StandardCharsets.ISO_8859_1);
            assertThat(all.length() - all.indexOf("\r\n\r\n") - 4).isEqualTo(size);
        }
    }

    /** A pipelined request cut short behind one sent whole: the first is answered, then the connection ends. */
    @Test
    void aPipelinedRequestCutShortEndsOnceItsTurnComes() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (HttpBackend a = new HttpBackend("a", HttpBackend.holding("/slow", release)); Sluice s = start(a);
             Socket c = new Socket("127.0.0.1", Proxies.port(s, "web"))) {
            c.setSoTimeout(20_000);
            c.getOutputStream().write(("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"
                    + "POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nfour")
                    .getBytes(StandardCharsets.US_ASCII));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.requests.size() == 1);
            c.shutdownOutput();
            release.countDown();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            c.getInputStream().transferTo(got); // the 20 s read timeout fails the test if nothing closes
            String answer = got.toString(StandardCharsets.US_ASCII);
            assertThat(answer).startsWith("HTTP/1.1 200").endsWith("/slow");
            await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);
        }
    }
}
