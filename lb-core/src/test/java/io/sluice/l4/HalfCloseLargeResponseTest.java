package io.sluice.l4;

import io.sluice.net.Transport;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.InputStream;
import java.net.Socket;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client that sends its request and half-closes at once, then reads a large answer slowly: the proxy has
 * to keep writing to a socket whose input is finished, through full socket buffers.
 */
class HalfCloseLargeResponseTest {
    private static final long SIZE = 32L << 20;

    @ParameterizedTest(name = "transport={0}")
    // epoll: bare Netty 4.2.18 failed this every time (its registration left epoll once the client's socket had
    // nothing to wait for, and the wait for writability failed with ENOENT); EpollInterest keeps it registered.
    @ValueSource(strings = {"auto", "nio", "io_uring", Transports.CHANNELS, "epoll", Transports.SPLICE})
    void halfClosedClientReceivesTheWholeAnswer(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend source = TestBackend.start("source", TestBackend.stream(SIZE));
             Sluice s = Proxies.startTcpMode(transport, "", source.address());
             Socket client = Proxies.connect(Proxies.port(s, "front"))) {
            client.setReceiveBufferSize(32 * 1024);
            client.getOutputStream().write("GET /big\r\n".getBytes());
            client.shutdownOutput();
            InputStream in = client.getInputStream();
            byte[] buf = new byte[8 * 1024];
            long total = 0;
            int n;
            int reads = 0;
            while ((n = in.read(buf)) > 0) {
                total += n;
                if (++reads % 64 == 0) {
                    Thread.sleep(1); // a slow reader, so the proxy meets a full socket buffer
                }
            }
            assertThat(total).isEqualTo(SIZE);
            if (Transports.isSplice(transport)) {
                assertThat(((TcpListener) s.listener("front")).splicer().pipesCreated()).isPositive();
            }
        }
    }
}
