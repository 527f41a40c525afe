package io.sluice.l4;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import io.sluice.testing.Transports;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A server that sends a few bytes and resets the connection, many times over on each transport: the client must
 * get every byte and then see its connection end, never be left waiting (see the HTTP test of the same name for
 * the transport bug this guards against).
 */
class BackendResetTest {
    private static final int ROUNDS = 25;

    @ParameterizedTest(name = "transport={0}")
    @ValueSource(strings = {"io_uring", Transports.CHANNELS, "epoll", "nio", Transports.SPLICE})
    void everyResetReachesTheClient(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        try (TestBackend dying = TestBackend.start("a", (socket, b) -> {
            // Wait for the client's byte, so the relay is in place before the last words and the reset.
            if (socket.getInputStream().read() < 0) {
                return;
            }
            socket.getOutputStream().write("last words".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            socket.setSoLinger(true, 0);
            socket.close();
        });
             Sluice s = Proxies.startTcpMode(transport, ", worker_threads: 1", dying.address())) {
            int port = Proxies.port(s, "front");
            for (int i = 0; i < ROUNDS; i++) {
                try (Socket c = Proxies.connect(port)) {
                    c.setSoTimeout(10_000); // a bound for a hang, not a timing assertion
                    c.getOutputStream().write('x');
                    c.getOutputStream().flush();
                    assertThat(readUntilEnd(c.getInputStream())).as("round %d", i).isEqualTo("last words");
                }
            }
        }
    }

    /** What arrived before the connection ended, by FIN or by reset; a read timeout fails the test. */
    private static String readUntilEnd(InputStream in) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw e;
        } catch (SocketException e) {
            // reset: the end as well
        }
        return got.toString(StandardCharsets.US_ASCII);
    }
}
