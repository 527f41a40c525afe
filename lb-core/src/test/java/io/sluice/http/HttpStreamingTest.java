package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.PooledByteBufAllocator;
import io.sluice.Sluice;
import io.sluice.testing.Patterns;
import io.sluice.testing.Proxies;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * 256 MiB each way through the HTTP proxy, compared by digest, while the proxy's direct memory (where Netty
 * keeps every buffer it reads) is sampled: streaming must hold a few socket buffers, never the body.
 */
class HttpStreamingTest {
    private static final long SIZE = 256L << 20;
    /** Generous: a few pool chunks and socket buffers, a tenth of the body. */
    private static final long MEMORY_BOUND = SIZE / 10;

    private HttpBackend backend;
    private Sluice sluice;
    private int port;
    private final AtomicBoolean sampling = new AtomicBoolean(true);
    private final AtomicLong peakDirect = new AtomicLong();
    private Thread sampler;

    @BeforeEach
    void setUp() throws Exception {
        backend = new HttpBackend("big", (req, out, s) -> {
            if (req.method().equals("POST")) {
                MessageDigest d = Patterns.sha256();
                byte[] buf = new byte[64 * 1024];
                long total = 0;
                int n;
                InputStream in = req.body();
                while ((n = in.read(buf)) > 0) {
                    d.update(buf, 0, n);
                    total += n;
                }
                HttpBackend.respond(out, 200, "text/plain",
                        (total + " " + HexFormat.of().formatHex(d.digest())).getBytes(StandardCharsets.UTF_8));
            } else {
                out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + SIZE + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                writePattern(out, SIZE, null);
                out.flush();
            }
        });
        sluice = Proxies.start("""
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(backend.address()));
        port = Proxies.port(sluice, "web");
        long base = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
        sampler = new Thread(() -> {
            while (sampling.get()) {
                long used = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory() - base;
                peakDirect.accumulateAndGet(used, Math::max);
                Thread.onSpinWait();
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "direct-memory-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    @AfterEach
    void tearDown() throws Exception {
        sampling.set(false);
        sampler.join();
        sluice.close();
        backend.close();
    }

    private static void writePattern(OutputStream out, long size, MessageDigest digest) throws java.io.IOException {
        byte[] chunk = Patterns.chunk(256 * 1024);
        for (long left = size; left > 0; left -= chunk.length) {
            int n = (int) Math.min(chunk.length, left);
            out.write(chunk, 0, n);
            if (digest != null) {
                digest.update(chunk, 0, n);
            }
        }
    }

    @Test
    void uploadOf256MiBStreamsInBoundedMemory() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            MessageDigest sent = Patterns.sha256();
            c.send("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: " + SIZE + "\r\n\r\n");
            writePattern(c.out, SIZE, sent);
            c.out.flush();
            RawHttp.Response r = c.read();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).isEqualTo(SIZE + " " + HexFormat.of().formatHex(sent.digest()));
        }
        assertThat(peakDirect.get()).isLessThan(MEMORY_BOUND);
    }

    @Test
    void chunkedUploadStreamsIntact() throws Exception {
        long size = 64L << 20;
        try (RawHttp c = new RawHttp(port)) {
            MessageDigest sent = Patterns.sha256();
            c.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = Patterns.chunk(100_000);
            for (long left = size; left > 0; left -= chunk.length) {
                int n = (int) Math.min(chunk.length, left);
                c.out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                c.out.write(chunk, 0, n);
                c.out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                sent.update(chunk, 0, n);
            }
            c.out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            assertThat(c.read().text()).isEqualTo(size + " " + HexFormat.of().formatHex(sent.digest()));
        }
        assertThat(peakDirect.get()).isLessThan(MEMORY_BOUND);
    }

    @Test
    void downloadOf256MiBStreamsInBoundedMemory() throws Exception {
        try (RawHttp c = new RawHttp(port)) {
            c.send("GET /down HTTP/1.1\r\nHost: a\r\n\r\n");
            InputStream in = c.in();
            String status = HttpBackend.readLine(in);
            assertThat(status).startsWith("HTTP/1.1 200");
            String h;
            long length = -1;
            while (!(h = HttpBackend.readLine(in)).isEmpty()) {
                if (h.toLowerCase().startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).trim());
                }
            }
            assertThat(length).isEqualTo(SIZE);
            MessageDigest got = Patterns.sha256();
            byte[] buf = new byte[128 * 1024];
            long total = 0;
            InputStream body = new HttpBackend.FixedInput(in, length);
            int n;
            while ((n = body.read(buf)) > 0) {
                got.update(buf, 0, n);
                total += n;
            }
            MessageDigest expected = Patterns.sha256();
            writePattern(OutputStream.nullOutputStream(), SIZE, expected);
            assertThat(total).isEqualTo(SIZE);
            assertThat(got.digest()).isEqualTo(expected.digest());
        }
        assertThat(peakDirect.get()).isLessThan(MEMORY_BOUND);
    }
}
