package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * {@code http.send_timeout}: a client that never reads a large response is closed once the bytes waiting for it
 * stop moving for the timeout, and the server connection that fed it is closed too; a client that reads slowly
 * but steadily gets all of it.
 */
class SendTimeoutTest {
    @AutoClose
    final Resources resources = new Resources();

    private static final long SIZE = 32L << 20;

    private Sluice sluice(HttpBackend backend) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 1 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    http: { send_timeout: 1s }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(backend.address())));
    }

    private static Socket client(int port, int receiveBuffer) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(receiveBuffer);
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        s.setSoTimeout(20_000);
        s.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return s;
    }

    private static double sendTimeouts(Sluice s) throws Exception {
        return sample(Proxies.admin(s, "/metrics").body(),
                "sluice_http_errors_total{listener=\"web\",reason=\"send_timeout\"}");
    }

    @Test
    void aClientThatNeverReadsIsClosedAndSoIsItsServerConnection() throws Exception {
        HttpBackend backend = resources.keep(new HttpBackend("big", HttpBackend.large(SIZE)));
        Sluice s = sluice(backend);
        Socket idle = resources.keep(client(Proxies.port(s, "web"), 4096));
        await().atMost(Duration.ofSeconds(20)).until(() -> sendTimeouts(s) == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);
        await().atMost(Duration.ofSeconds(10)).until(() -> backend.openConnections() == 0);
        // What the client finds when it finally reads: part of the response, then the end.
        InputStream in = idle.getInputStream();
        long got = 0;
        try {
            byte[] b = new byte[64 * 1024];
            for (int n; (n = in.read(b)) > 0; ) {
                got += n;
            }
        } catch (java.net.SocketException reset) {
            // a reset is as good an end as a FIN here
        }
        assertThat(got).isLessThan(SIZE);
    }

    @Test
    void aSlowButSteadyReaderGetsEverything() throws Exception {
        HttpBackend backend = resources.keep(new HttpBackend("big", HttpBackend.large(4L << 20)));
        Sluice s = sluice(backend);
        try (Socket slow = client(Proxies.port(s, "web"), 4096)) {
            InputStream in = slow.getInputStream();
            byte[] b = new byte[16 * 1024];
            long got = 0;
            long pauses = 0;
            for (int n; (n = in.read(b)) > 0; ) {
                got += n;
                // A pause now and then, each well under the timeout, several adding up to more than it.
                if (got / (512 * 1024) > pauses) {
                    pauses++;
                    Thread.sleep(200);
                }
                if (got >= (4L << 20)) {
                    break;
                }
            }
            assertThat(got).isGreaterThanOrEqualTo(4L << 20);
        }
        assertThat(sendTimeouts(s)).isZero();
    }
}
