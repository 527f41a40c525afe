package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A fast server and a client that stops reading: the proxy must stop reading from the server (so the server
 * blocks on full socket buffers) rather than queue the stream in memory.
 */
class BackpressureTest {
    private static final long STREAM = 256L << 20;
    /**
     * What may sit between a blocked server and a non-reading client: kernel socket buffers on both legs
     * (loopback autotuning can reach several MiB each) plus the relay's 256 KiB high water mark.
     */
    private static final long IN_FLIGHT_LIMIT = 48L << 20;

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"epoll", "nio", "io_uring", Transports.CHANNELS, Transports.SPLICE})
    void slowReaderStopsTheServerInsteadOfFillingMemory(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend source = TestBackend.start("source", TestBackend.stream(STREAM));
             Sluice s = Proxies.startTcpMode(transport, "", source.address());
             Socket client = Proxies.connect(Proxies.port(s, "front"))) {
            client.setReceiveBufferSize(64 * 1024);

            // Wait until the server's output stops growing: it is blocked by backpressure.
            AtomicLong last = new AtomicLong(-1);
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
                long now = source.bytesWritten();
                return now > 0 && now == last.getAndSet(now);
            });
            long stalledAt = source.bytesWritten();
            assertThat(stalledAt).isLessThan(IN_FLIGHT_LIMIT);

            // Then reading resumes and the whole stream arrives.
            InputStream in = client.getInputStream();
            byte[] buf = new byte[256 * 1024];
            long total = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                total += n;
            }
            assertThat(total).isEqualTo(STREAM);
        }
    }
}
