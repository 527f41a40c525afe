package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpMethod;
import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The encoders' direct way ({@link DirectHeads}) on and off ({@code -Dsluice.http1.directHeads}) through a real
 * proxy: the same client requests, fixed and generated, give the same bytes at the server and at the client
 * (request ids aside, which are new each time). Each run has its own proxy, so every connection's codec is made
 * with the setting of its run.
 */
class DirectHeadsWireTest {
    private static final String CONFIG = """
            runtime: { worker_threads: 1 }
            admin: { enabled: false }
            listeners:
              - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
            clusters:
              - { name: app, servers: [ { address: "%s" } ] }
            """;

    /** Answers by path: /f/KIND/ a fixed kind, /g/SEED/ a generated response; HEAD answers have no body. */
    private static void answer(HttpBackend.Request req, java.io.OutputStream out) throws IOException {
        req.readBody(); // all of the request is in before the answer: the recording is whole once it is out
        String[] p = req.uri().replaceFirst("^https?://[^/]*", "").split("/");
        boolean head = req.method().equals("HEAD");
        String text = switch (p[1]) {
            case "g" -> DirectHeadsTest.response(new Random(Long.parseLong(p[2])), head ? HttpMethod.HEAD : HttpMethod.GET);
            default -> fixed(p[2], head);
        };
        HttpBackend.respondRaw(out, text);
    }

    private static String fixed(String kind, boolean head) {
        String body = kind.equals("big") ? "b".repeat(70_000) : kind.equals("edge") ? "e".repeat(65_536)
                : "x".repeat(64);
        String framed = "Content-Length: " + body.length() + "\r\n\r\n" + (head ? "" : body);
        return switch (kind) {
            case "chunked" -> "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + (head ? "" : "40\r\n" + body + "\r\n0\r\nX-T: 1\r\n\r\n");
            case "nocontent" -> "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n";
            case "notmodified" -> "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n";
            case "reset" -> "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n";
            case "hints" -> "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\n" + framed;
            case "odd" -> "HTTP/1.1 200 Fine\r\n" + framed;
            case "old" -> "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + framed;
            case "many" -> "HTTP/1.1 404 Not Found\r\nServer: s\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n"
                    + "Connection: X-Drop\r\nX-Drop: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n" + framed;
            default -> "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" + framed;
        };
    }

    private static List<String> requests() {
        List<String> out = new ArrayList<>();
        String[] kinds = {"plain", "chunked", "plain", "nocontent", "notmodified", "reset", "hints", "odd", "old",
            "many", "big", "edge", "plain"};
        for (String k : kinds) {
            out.add("GET /f/" + k + "/x?y=1 HTTP/1.1\r\nHost: h.example\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n");
            out.add("HEAD /f/" + k + "/ HTTP/1.1\r\nHost: h.example\r\n\r\n");
        }
        out.add("POST /f/plain/ HTTP/1.1\r\nHost: h.example\r\nContent-Length: 3\r\n\r\nabc");
        out.add("POST /f/plain/ HTTP/1.1\r\nHost: h.example\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        out.add("GET /f/plain/ HTTP/1.1\r\nHost: h.example\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n");
        Random rnd = new Random(20);
        for (int i = 0; i < 150; i++) {
            String r = DirectHeadsTest.request(rnd);
            // The path carries the seed of the server's answer.
            out.add(r.replaceFirst(" (http://h\\.example)?/", " $1/g/" + i + "/"));
        }
        out.add("GET /f/plain/ HTTP/1.1\r\nHost: h.example\r\nConnection: close\r\n\r\n");
        return out;
    }

    @Test
    void serverAndClientGetTheSameBytesWithTheDirectWayOnAndOff() throws Exception {
        long before = DirectHeads.taken();
        String[] off = run(false);
        long afterOff = DirectHeads.taken();
        String[] on = run(true);
        // Test classes run one at a time in this JVM: the counts are this test's.
        assertThat(afterOff).as("direct writes with the direct way off").isEqualTo(before);
        assertThat(DirectHeads.taken() - afterOff).as("direct writes with it on").isGreaterThan(50);
        assertThat(on[0]).as("bytes at the server").isEqualTo(off[0]);
        assertThat(on[1]).as("bytes at the client").isEqualTo(off[1]);
        assertThat(on[0]).contains("GET /f/plain/x?y=1 HTTP/1.1\r\nHost: h.example\r\nUser-Agent: t\r\nAccept: */*\r\n");
        assertThat(on[1]).contains("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 64\r\n")
                .contains("e".repeat(65_536), "b".repeat(70_000));
    }

    /** The bytes the server and the client received for {@link #requests}, request ids masked. */
    private static String[] run(boolean direct) throws Exception {
        String before = System.getProperty(DirectHeads.PROPERTY);
        System.setProperty(DirectHeads.PROPERTY, Boolean.toString(direct));
        ByteArrayOutputStream client = new ByteArrayOutputStream();
        try (HttpBackend b = new HttpBackend("b", (req, out, s) -> answer(req, out)).recordBytes();
             Sluice s = Proxies.start(CONFIG.formatted(b.address()))) {
            int port = Proxies.port(s, "web");
            Socket c = null;
            InputStream in = null;
            try {
                for (String r : requests()) {
                    if (c == null) {
                        c = new Socket(InetAddress.getLoopbackAddress(), port);
                        c.setSoTimeout(20_000);
                        // Copied as the responses are taken from the buffer: what the client read, no more.
                        in = new HttpBackend.Counting(new BufferedInputStream(c.getInputStream()),
                                new java.util.concurrent.atomic.AtomicLong(), client);
                    }
                    c.getOutputStream().write(r.getBytes(StandardCharsets.ISO_8859_1));
                    c.getOutputStream().flush();
                    if (!readResponse(in, r.startsWith("HEAD "))) {
                        c.close(); // the proxy closes after this answer (HTTP/1.0, Connection: close, a refusal)
                        c = null;
                    }
                }
            } finally {
                if (c != null) {
                    c.close();
                }
            }
            return new String[] {masked(b.bytesRecorded()), masked(client.toString(StandardCharsets.ISO_8859_1))};
        } finally {
            if (before == null) {
                System.clearProperty(DirectHeads.PROPERTY);
            } else {
                System.setProperty(DirectHeads.PROPERTY, before);
            }
        }
    }

    /** Reads one final response (and the interim ones before it); false when the connection ends with it. */
    private static boolean readResponse(InputStream in, boolean head) throws IOException {
        while (true) {
            String status = HttpBackend.readLine(in);
            assertThat(status).isNotNull();
            int code = Integer.parseInt(status.split(" ")[1]);
            long length = -1;
            boolean chunked = false;
            boolean close = status.startsWith("HTTP/1.0");
            String h;
            while (!(h = HttpBackend.readLine(in)).isEmpty()) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:")) {
                    chunked = true;
                } else if (lower.startsWith("connection:")) {
                    close = lower.contains("close") || close && !lower.contains("keep-alive");
                }
            }
            if (code < 200) {
                continue;
            }
            if (!head && code != 204 && code != 304) {
                InputStream body = chunked ? new HttpBackend.ChunkedInput(in)
                        : length >= 0 ? new HttpBackend.FixedInput(in, length) : in;
                body.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return !close;
        }
    }

    private static String masked(String bytes) {
        return bytes.replaceAll("(?i)(x-request-id: )[0-9a-f]{32}", "$1<id>");
    }
}
